"""Sizes checked before anything is built: a model or mixture that cannot fit in memory is an error
naming the setting, not a "can't allocate" minutes later.

Estimates count float32 parameters, their gradients and Adam's two moments (16 bytes per
parameter) plus one batch of activations for a network, and the float64 parameters, the
EM statistics and one E-step block for a mixture.  They are compared with the device's
memory: the CPU's physical memory, or the GPU's.
"""

from __future__ import annotations

import math
import os

import torch

from ..errors import ConfigError

USABLE = 0.8   # of the device's memory


def device_memory(device: torch.device) -> int | None:
    """Bytes of memory of ``device`` (None where it cannot be told)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def parameter_count(model_cls, config) -> int:
    """Parameters and buffers of ``model_cls(config)``, counted on the meta device (no memory used)."""
    with torch.device("meta"):
        model = model_cls(config)
    return sum(t.numel() for t in model.state_dict().values())


def _refuse(what: str, need: int, device: torch.device, setting: str, advice: str) -> None:
    have = device_memory(device)
    if have is not None and need > USABLE * have:
        raise ConfigError(f"{setting}: {what} needs about {need / 2**30:.1f} GiB, more than this {device.type} "
                          f"device can give ({USABLE * have / 2**30:.1f} GiB of {have / 2**30:.1f}); {advice}",
                          setting=setting)


def check_network(model_config, batch_size: int, device: torch.device) -> int:
    """Refuse a network too large to train on ``device``; returns its parameter count."""
    from ..models import model_class

    params = parameter_count(model_class(model_config), model_config)
    linear = model_config.arch == "linear"   # no hidden layers: its ``hidden`` is an unused default
    hidden = () if linear else model_config.hidden
    widths = sum(hidden) * 2 + 2 * model_config.latent + 4 * math.prod(model_config.image_shape)
    need = 16 * params + 4 * 4 * batch_size * widths
    if linear:
        _refuse(f"a model of {params:,} parameters (arch=linear, latent={model_config.latent})", need, device,
                "latent", "lower --latent")
    else:
        _refuse(f"a model of {params:,} parameters (hidden={','.join(map(str, hidden))}, "
                f"latent={model_config.latent})", need, device, "hidden", "lower --hidden or --latent")
    return params


def check_mixture(components: int, covariance: str, dims: int, n_train: int, device: torch.device) -> None:
    """Refuse a mixture that has more components than examples, or cannot fit in memory."""
    from ..models.gmm import CHUNK

    if components > n_train:
        raise ConfigError(f"components must be at most the number of training examples ({n_train}); "
                          f"got {components}", setting="components")
    per_component = 8 * dims * (dims if covariance == "full" else 1)
    need = 8 * components * per_component + 8 * 4 * min(CHUNK, n_train) * (components + 2 * dims)
    _refuse(f"{components:,} {covariance} components of dimension {dims}", need, device, "components",
            "lower --components" + (" or use --covariance diag" if covariance == "full" else ""))
