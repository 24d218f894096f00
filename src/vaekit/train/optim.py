"""The optimizer: Adam with PyTorch's fused kernel where the build has it."""

from __future__ import annotations

import torch


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam with the fused kernel (one kernel for all parameters instead of a Python loop)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older PyTorch builds without fused CPU Adam
        return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
