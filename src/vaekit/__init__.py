"""vaekit: variational autoencoders as the lecture teaches them.

    >>> import vaekit
    >>> model = vaekit.load("runs/digits")          # trained model, eval mode, CPU
    >>> x = vaekit.data.load("digits", "test").model_input(model.likelihood)
    >>> m, log_var = model.encode(x)                # x: (N, C, H, W) in [0, 1]
    >>> dist = model.decode(m)                      # p(x|z): batch (N,), event (C, H, W)
    >>> dist.log_prob(x)                            # log p(x|z) per example, nats
    >>> model.log_prob(x, k=1000)                   # log p(x) per example, nats (importance-sampled)

The subpackages (``vaekit.data``, ``vaekit.models``, ``vaekit.objectives``, ``vaekit.eval``,
``vaekit.train``, ``vaekit.viz``) are imported on first use, so ``import vaekit`` alone does
not import torch.
"""

from importlib import import_module as _import_module

__version__ = "0.1.0"

# Imported on first attribute access (PEP 562), so that `import vaekit` alone imports no torch.
_LAZY = ("data", "errors", "eval", "models", "objectives", "rundir", "train", "viz")


def __getattr__(name: str):
    if name in _LAZY:
        return _import_module(f"{__name__}.{name}")   # also sets it as this module's attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def load(run_dir, device="cpu"):
    """The trained model of a run directory, in eval mode, on ``device``.

    device: "cpu" (default), "cuda", or "auto" (a CUDA GPU if PyTorch sees one, else the CPU),
    as the CLI's ``--device``; or a ``torch.device``.  Returns a ``models.VAE`` or a
    ``models.gmm.GaussianMixture``, both ``models.protocol.DensityModel``s.
    """
    from .rundir import load_model
    from .device import resolve_device

    return load_model(run_dir, device=device if not isinstance(device, str) else resolve_device(device))


__all__ = ["__version__", "load"]
