"""The optimizer: Adam with the fused kernel, and its update without Optimizer.step's bookkeeping."""

from __future__ import annotations

from typing import Callable

import torch
from torch.optim import optimizer as torch_optimizer


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam with the fused kernel (one kernel for all parameters instead of a Python loop)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older PyTorch builds without fused CPU Adam
        return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)


def step_function(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """A function doing what ``optimizer.step()`` does, made once for many steps (an epoch).

    For the fused Adam of ``make_optimizer`` it calls the fused kernel directly on tensor
    lists gathered once (after the optimizer's own first step has made its state): the
    same arithmetic on the same state, without the ~40 µs a step that ``Optimizer.step``
    spends grouping tensors and checking hooks (1 % of a default CPU step).  The
    parameters' ``.grad`` must stay the same tensors, written in place, while it is used
    (as ``objectives.fused.ElboStep`` writes them); the learning rate is read when the
    function is made.  Any other optimizer or setting, or hooks, get ``optimizer.step``.
    """
    fast = None

    def step() -> None:
        nonlocal fast
        if fast is not None:
            fast()
        else:
            optimizer.step()
            fast = _direct_fused_adam(optimizer) or optimizer.step

    return step


def _direct_fused_adam(optimizer: torch.optim.Optimizer) -> Callable[[], None] | None:
    """The fused Adam update of ``optimizer``'s one param group as a closure, or None if it has none."""
    fused_adam = getattr(torch, "_fused_adam_", None)
    if (fused_adam is None or type(optimizer) is not torch.optim.Adam or len(optimizer.param_groups) != 1
            or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
            or torch_optimizer._global_optimizer_pre_hooks
            or torch_optimizer._global_optimizer_post_hooks):
        return None
    group = optimizer.param_groups[0]
    params = group["params"]
    if (not group.get("fused") or group["amsgrad"] or group["maximize"] or group.get("decoupled_weight_decay")
            or group["differentiable"] or any(torch.is_tensor(v) for v in (group["lr"], *group["betas"]))
            or len({p.device for p in params}) != 1
            or any(p.grad is None or p.grad.is_sparse or "exp_avg" not in optimizer.state.get(p, {})
                   for p in params)):
        return None
    state = [optimizer.state[p] for p in params]
    grads = [p.grad for p in params]
    exp_avgs, exp_avg_sqs = [s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state]
    steps = [s["step"] for s in state]
    beta1, beta2 = group["betas"]
    kwargs = dict(amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                  eps=group["eps"], maximize=False, grad_scale=None, found_inf=None)

    def step() -> None:
        torch._foreach_add_(steps, 1)
        fused_adam(params, grads, exp_avgs, exp_avg_sqs, [], steps, **kwargs)

    return step
