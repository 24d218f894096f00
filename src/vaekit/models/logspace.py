"""Two sums in log space for the evaluation's inner loop, equal to torch's own to float32 rounding.

    logsumexp(a)      log Σ_k exp(a_k), as ``torch.logsumexp``
    softplus_sum(l)   Σ_d softplus(l_d) = Σ_d log(1 + exp(l_d)), as ``F.softplus(l).sum(-1)``

Why not torch's: on a CPU, the vectorised exp takes a slow path for arguments below about −87
(where exp underflows float32).  The VampPrior's table of log q(z|u_k) spans hundreds of nats
across its K = 500 components, and a Bernoulli decoder's logits for background pixels lie
at −20 to −180, so most of those terms take it, and torch's two functions spend most of
their time there; these two keep every exp away from it (the timings: ``docs/performance.md``,
"Log-space sums").  ``tests/models/test_logspace.py`` checks both against torch in float64.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

# exp(-80) ≈ 1.8e-35: a term this far below the largest changes log Σ exp by less than
# K·1.8e-35, far below float32's resolution (1.2e-7) for any K a model can hold.
UNDERFLOW = -80.0


def logsumexp(a: torch.Tensor, dim: int = -1, overwrite: bool = False) -> torch.Tensor:
    """log Σ exp(a) along ``dim``, stably: (..., K, ...) -> (...), as ``torch.logsumexp``.

    Shifted by the largest term, as usual; the shifted terms are clamped at −80 before exp, so
    none takes the slow underflow path (each clamped term stands for exp(−80) instead of less,
    an error below float32 rounding).  Rows whose largest term is ±inf or NaN give that value,
    as torch's.  Differentiable (the clamped terms get zero gradient, as theirs is < 1e-34); the
    clamp and exp run in place on the one temporary a − shift; with ``overwrite``, where a needs no
    gradient and is the caller's own temporary (``gaussian.log_mixture``'s table), on a itself.
    """
    top = a.detach().amax(dim, keepdim=True)             # the shift cancels: no gradient through it
    finite = torch.isfinite(top)
    shift = torch.where(finite, top, torch.zeros_like(top))
    in_place = overwrite and not (torch.is_grad_enabled() and a.requires_grad)
    out = (a.sub_(shift) if in_place else a - shift).clamp_min_(UNDERFLOW).exp_().sum(dim).log_() + shift.squeeze(dim)
    return torch.where(finite.squeeze(dim), out, top.squeeze(dim))


def softplus_sum(l: torch.Tensor, overwrite: bool = False) -> torch.Tensor:
    """Σ_d softplus(l_d) over the last dimension: l (..., D) -> (...), as ``F.softplus(l).sum(-1)``.

        softplus(l) = max(l, 0) − log σ(|l|),    Σ_d log σ(|l_d|) = Σ_blocks log Π_{d ∈ block} σ(|l_d|)

    σ(|l|) lies in [½, 1], so neither the sigmoid nor its log over- or underflows, and a
    product of up to 64 of them stays above 0.5⁶⁴ ≈ 5e-20, well inside float32: one log per
    block of pixels (``block_size``) instead of one per pixel.  |l| is clamped at 80 first
    (σ(80) is 1 in float32) so that the sigmoid's exp(−|l|) never underflows.  The rounding
    error is that of a float32 sum of D terms (about 1e-4 nats for MNIST's 784 pixels).

    Where l needs a gradient (training with ``--objective iwae``) it is ``F.softplus``, whose
    backward is one sigmoid; without one (evaluation), the clamp and sigmoid run in place on
    one temporary; with ``overwrite`` (for a caller whose l is a temporary of its own, such as
    the decoder's logits in ``VAE.log_likelihood``), on l itself, which is then lost.
    """
    if torch.is_grad_enabled() and l.requires_grad:
        return F.softplus(l).sum(-1)
    d = l.shape[-1]
    b = block_size(d)
    positive = l.clamp_min(0).sum(-1)                                      # Σ_d max(l_d, 0), (...)
    sig = (l.abs_() if overwrite else l.abs()).clamp_max_(-UNDERFLOW).sigmoid_()   # σ(|l|) in [½, 1], (..., D)
    return positive - sig.view(*l.shape[:-1], d // b, b).prod(-1).log_().sum(-1)


@functools.lru_cache(maxsize=None)
def block_size(d: int) -> int:
    """The largest divisor of d up to 64: the pixels ``softplus_sum`` multiplies before one log."""
    return max(b for b in range(1, 65) if d % b == 0)
