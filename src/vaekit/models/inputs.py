"""Whether data can be scored by a model: one-line errors before any arithmetic."""

from __future__ import annotations

import torch

from ..errors import VaekitError


def check_input(model, x: torch.Tensor) -> None:
    """One-line errors for data a model cannot be evaluated on: x (N, C, H, W) against the model's
    image shape, finiteness, and its likelihood's support ([0, 1] for "bernoulli")."""
    config = getattr(model, "config", None)
    shape = None if config is None else tuple(config.image_shape)
    if shape is not None and tuple(x.shape[1:]) != shape:
        raise VaekitError(f"the model expects images of shape {shape} (C, H, W); the data has {tuple(x.shape[1:])}")
    if not torch.isfinite(x).all():
        raise VaekitError(f"the data holds {int((~torch.isfinite(x)).sum())} NaN or infinite values")
    if model.likelihood == "bernoulli" and (x.min() < 0 or x.max() > 1):
        raise VaekitError(f"a bernoulli likelihood needs data in [0, 1]; got values in "
                          f"[{x.min().item():.3g}, {x.max().item():.3g}]")
