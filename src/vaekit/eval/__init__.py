"""Evaluation: batched estimates over whole splits, per example, in nats.

Names are imported on first use (PEP 562), so the settings (``eval.config``) can be read (to
build the CLI's flags, say) without importing torch.
"""

from importlib import import_module

_WHERE = {"active_units": "report", "elbo_means": "elbo", "elbo_sums": "elbo", "evaluate": "report",
          "log_px": "likelihood"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
