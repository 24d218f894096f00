"""Training: the configs, the epoch loop, and whole runs (``fit`` for AE/VAE, ``fit_gmm`` for mixtures).

Names are imported on first use (PEP 562), so the configs can be read (to build the CLI's
flags, say) without importing torch.
"""

from importlib import import_module

_WHERE = {"TrainConfig": "config", "from_toml": "config", "make_config": "config", "config_for_resume": "run",
          "fit": "run", "GMMFitConfig": "config", "fit_gmm": "gmm_run"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
