"""The class y of a conditional model (condition "label": q(z|x, y), p(x|z, y)): its one-hot
input to the networks, and the check that each class is one of the model's."""

from __future__ import annotations

import torch

from ..errors import VaekitError


def one_hot(y, classes: int | None, n: int, like: torch.Tensor) -> torch.Tensor | None:
    """y for the networks: None for an unconditional model (``classes`` None); else (n, C) in ``like``'s
    dtype and device.

    y: the classes, an int or an int tensor (n,) (not range-checked here: ``check_classes``; a class
    outside 0..C-1 joins as a zero row), or already (n, C) floats (a one-hot, or a mix of them).  A
    conditional model without y, or a y for an unconditional one, is a VaekitError.
    """
    if classes is None:
        if y is not None:
            raise VaekitError("this model is not conditional (condition 'none'): it takes no class y")
        return None
    if y is None:
        raise VaekitError(f"this model is conditional on the class (condition 'label'): give y, each "
                          f"example's class, 0 to {classes - 1}")
    y = torch.as_tensor(y, device=like.device)
    if y.is_floating_point() and y.dim() == 2 and y.shape[1] == classes:
        return y.to(like.dtype).expand(n, classes) if len(y) == 1 else y.to(like.dtype)
    if y.dim() == 0:
        y = y.expand(n)
    if y.shape != (n,) or y.is_floating_point():
        raise VaekitError(f"y must be {n} integer classes, 0 to {classes - 1}; got a {y.dtype} tensor of shape "
                          f"{tuple(y.shape)}")
    return (y.unsqueeze(-1) == torch.arange(classes, device=like.device)).to(like.dtype)


def check_classes(y, classes: int) -> None:
    """A one-line VaekitError unless every class in y is one of 0 to ``classes`` − 1 (a host sync)."""
    y = torch.as_tensor(y)
    if y.is_floating_point() or y.numel() == 0:
        return
    if y.min() < 0 or y.max() >= classes:
        bad = y[(y < 0) | (y >= classes)].flatten()[0].item()
        raise VaekitError(f"class {bad} is outside this model's labels, 0 to {classes - 1}")
