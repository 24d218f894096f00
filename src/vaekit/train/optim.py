"""The optimizer: Adam with PyTorch's fused kernel where the build has it."""

from __future__ import annotations

import torch


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam with the fused kernel (one kernel for all parameters instead of a Python loop)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older PyTorch builds without fused CPU Adam
        return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)


def check_state(optimizer: torch.optim.Optimizer) -> None:
    """ValueError unless every parameter's Adam state (after ``load_state_dict``) fits it.

    ``load_state_dict`` checks the parameter groups, not the moments: a first or second moment
    of another shape broadcasts silently or fails in the middle of a step, a missing one
    fails there with a KeyError.
    """
    needed = ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if optimizer.defaults.get("amsgrad") else ())
    for g, group in enumerate(optimizer.param_groups):
        for i, p in enumerate(group["params"]):
            state = optimizer.state.get(p)
            if not state:   # never stepped: Adam makes it at the first step
                continue
            missing = [name for name in needed if name not in state]
            if missing:
                raise ValueError(f"parameter {i} of group {g} has no {missing[0]}")
            for name in needed[1:]:
                moment = state[name]
                if not isinstance(moment, torch.Tensor) or moment.shape != p.shape or not moment.is_floating_point():
                    got = tuple(moment.shape) if isinstance(moment, torch.Tensor) else type(moment).__name__
                    raise ValueError(f"{name} of parameter {i} of group {g} is {got}; expected {tuple(p.shape)}")
            if not isinstance(state["step"], torch.Tensor) or state["step"].numel() != 1:
                raise ValueError(f"step of parameter {i} of group {g} is not a single number")


def reordered(state: dict, positions: list[int]) -> dict:
    """An optimizer state_dict saved with the parameters in another order, in today's: parameter i
    takes the state saved at ``positions[i]`` (``VAE.positions_before_parts``).  One parameter group."""
    if not isinstance(state, dict) or not isinstance(state.get("state"), dict):
        return state                      # damaged: ``restore`` says so
    saved = state["state"]
    return {**state, "state": {i: saved[p] for i, p in enumerate(positions) if p in saved}}
