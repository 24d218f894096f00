"""Sizes checked before anything is built: a model or mixture that cannot fit in memory is an error
naming the setting, not a "can't allocate" minutes later.

Estimates count float32 parameters, their gradients and Adam's two moments (16 bytes per
parameter) plus one batch of activations for a network, and the float64 parameters, the
EM statistics and one E-step block for a mixture.  They are compared with the device's
memory: the CPU's physical memory, or the GPU's.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from ..device import USABLE, memory_bytes
from ..errors import ConfigError

def parameter_count(model_cls, config) -> int:
    """Parameters and buffers of ``model_cls(config)``, counted on the meta device (no memory used)."""
    with torch.device("meta"):
        model = model_cls(config)
    return sum(t.numel() for t in model.state_dict().values())


def _refuse(what: str, need: int, device: torch.device, setting: str, advice: str) -> None:
    have = memory_bytes(device)
    if have is not None and need > USABLE * have:
        raise ConfigError(f"{setting}: {what} needs about {need / 2**30:.1f} GiB, more than this {device.type} "
                          f"device can give ({USABLE * have / 2**30:.1f} GiB of {have / 2**30:.1f}); {advice}",
                          setting=setting)


def check_network(model_config, batch_size: int, device: torch.device, k: int = 1, k_setting: str = "k",
                  image_size_given: bool = False) -> int:
    """Refuse a network too large to train on ``device``; returns its parameter count.

    ``k``: codes drawn per example in a step (the IWAE bound's samples), which multiply the
    activations; ``k_setting`` names the setting it comes from (``k``, or ``anneal_k``).  The
    error names the setting to blame: the one whose smallest value would shrink the need the
    most (``hidden``, ``latent``, ``latent2``, ``hidden2``, ``pseudo_inputs``, the images' size,
    ``batch_size`` or ``k_setting``).
    """
    params, need = _network_need(model_config, batch_size, k)
    have = memory_bytes(device)
    if have is None or need <= USABLE * have:
        return params
    setting = _to_blame(model_config, batch_size, k)
    setting = k_setting if setting == "k" else setting
    c, h, w = model_config.image_shape
    sizes = [f"{c}x{h}x{w} images"]
    if model_config.arch != "linear":
        sizes.append(f"hidden={_widths(model_config.hidden)}")
    sizes.append(f"latent={model_config.latent}")
    if model_config.stochastic_layers == 2:
        sizes += [f"hidden2={_widths(model_config.hidden2)}"] * bool(model_config.hidden2)
        sizes.append(f"latent2={model_config.latent2}")
    if model_config.prior == "vamp":
        sizes.append(f"pseudo_inputs={model_config.pseudo_inputs}")
    batches = f" trained on batches of {batch_size:,}" + (f" with {k_setting}={k:,} samples each" if k > 1 else "")
    if setting == "image_size" and not image_size_given:
        advice = "pass a smaller `image_size`"
    else:
        advice = f"lower `{setting}`"
    _refuse(f"a model of {params:,} parameters ({', '.join(sizes)}){batches}", need, device, setting, advice)
    return params


def _network_need(model_config, batch_size: int, k: int) -> tuple[int, int]:
    """(parameters, bytes to train): float32 weights, gradients and Adam's two moments (16 bytes a
    parameter) plus one step's activations, about four float32 copies of every layer's width for
    each of the batch_size x k codes."""
    from ..models import model_class

    params = parameter_count(model_class(model_config), model_config)
    linear = model_config.arch == "linear"   # no hidden layers: its ``hidden`` is an unused default
    widths = (0 if linear else sum(model_config.hidden) * 2) + 2 * model_config.latent \
        + 4 * math.prod(model_config.image_shape)
    if model_config.stochastic_layers == 2:
        widths += 2 * sum(model_config.hidden2) + 4 * model_config.latent2
    return params, 16 * params + 4 * 4 * batch_size * k * widths


def _to_blame(model_config, batch_size: int, k: int) -> str:
    """The setting whose smallest value would shrink the need the most."""
    c = model_config.image_shape[0]
    smaller = {"latent": {"latent": 1}, "image_size": {"image_shape": (c, 4, 4)}}
    if model_config.arch != "linear":
        smaller["hidden"] = {"hidden": (1,) * len(model_config.hidden)}
    if model_config.stochastic_layers == 2:
        smaller["latent2"] = {"latent2": 1}
        if model_config.hidden2:
            smaller["hidden2"] = {"hidden2": (1,) * len(model_config.hidden2)}
    if model_config.prior == "vamp":
        smaller["pseudo_inputs"] = {"pseudo_inputs": 1}
    needs = {"batch_size": _network_need(model_config, 1, k)[1], "k": _network_need(model_config, batch_size, 1)[1]}
    for setting, change in smaller.items():
        try:
            needs[setting] = _network_need(replace(model_config, **change), batch_size, k)[1]
        except ValueError:   # a config that cannot be made (say, a conv net on 4x4 images): no candidate
            continue
    if k == 1:
        del needs["k"]
    return min(needs, key=needs.get)


def _widths(widths) -> str:
    return ",".join(map(str, widths))


def check_mixture(components: int, covariance: str, dims: int, n_train: int, device: torch.device) -> None:
    """Refuse a mixture that has more components than examples, or cannot fit in memory."""
    from ..models.gmm import CHUNK

    if components > n_train:
        raise ConfigError(f"components must be at most the number of training examples ({n_train}); "
                          f"got {components}", setting="components")
    per_component = 8 * dims * (dims if covariance == "full" else 1)
    need = 8 * components * per_component + 8 * 4 * min(CHUNK, n_train) * (components + 2 * dims)
    _refuse(f"{components:,} {covariance} components of dimension {dims}", need, device, "components",
            "lower `components`" + (" or use `covariance='diag'`" if covariance == "full" else ""))
