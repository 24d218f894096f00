"""log p(x) by quadrature over a 1-D code: the lecture's infinite mixture, summed.

A VAE is the infinite mixture P(x) = ∫ P(z) P(x|z) dz.  With a 1-D code z the integral can be
taken directly, as a very fine finite mixture: on n equally spaced nodes z_j over [−R, R],
spacing Δ = 2R/(n − 1),

    p(x) ≈ Σ_j Δ p(z_j) p(x|z_j),    log p(x) ≈ logsumexp_j(log Δ + log p(z_j) + log p(x|z_j))

(the trapezoid rule; the end nodes' half weights are dropped, as the prior there is below
1e-14 for the standard normal and R = 8).  No encoder and no sampling: the model's own
marginal, deterministic, where the importance-sampled estimate (``objectives.iwae.log_px``)
is a lower bound on average that rises with k.  The rule is exact to far below a nat's
thousandth while every p(x|z) peak spans several nodes: ``nodes`` doubled checks it.

For a Gaussian p(x|z) = N(μ_j, diag s_j²) the points' log-likelihoods under all n nodes come
from one matrix product (``gaussian_product``, on by default), with a = 1/s²:

    log N(x; μ_j, s_j²) = Σ_d [−½ a_jd x_d² + a_jd μ_jd x_d] − ½ Σ_d [a_jd μ_jd² + log 2π s_jd²]
                        = [x², x] · [−½ a_j, a_j μ_j] + c_j

in float64 (the terms are large where s is small, and cancel); otherwise, and with it off,
the decoded Distribution's own ``log_prob`` on every (point, node) pair.
"""

from __future__ import annotations

import math

import torch

from torch.distributions import Independent, Normal

from ..errors import VaekitError
from ..validate import positive_int

MAX_ELEMENTS = 1 << 24   # values of log p(x|z_j) held at once (points × nodes × pixels): 64 MB of float32


@torch.no_grad()
def log_px_quadrature(model, x: torch.Tensor, nodes: int = 4096, bound: float = 8.0,
                      gaussian_product: bool = True) -> torch.Tensor:
    """log p(x) = log ∫ p(z) p(x|z) dz on ``nodes`` nodes over [−bound, bound]: x (N, C, H, W) -> (N,), nats.

    ``model`` a VAE with a 1-D code and one stochastic layer, not conditional (its ``decode``
    gives p(x|z) as a Distribution, its ``prior.log_prob`` log p(z)).  The nodes are decoded
    once; each point's log-likelihood under every node's p(x|z_j) is summed in float64, a
    block of points at a time (at most MAX_ELEMENTS values).  ``gaussian_product``: a Gaussian
    p(x|z)'s log-likelihoods as one matrix product (module docstring); False: through
    ``log_prob``, the plain path it is tested against.
    """
    positive_int("nodes", nodes)
    if not (isinstance(bound, (int, float)) and math.isfinite(bound) and bound > 0):
        raise VaekitError(f"bound: expected a positive finite number, got {bound!r}")
    latent = getattr(model, "latent_dim", None)
    if latent != 1 or getattr(model.config, "stochastic_layers", 1) != 1:
        raise VaekitError(f"quadrature over z needs a model with one 1-D code; this one's code is {latent}-D"
                          + (" in two stochastic layers" if getattr(model.config, "stochastic_layers", 1) != 1
                             else ""))
    if getattr(model.config, "condition", "none") != "none":
        raise VaekitError("quadrature over z is for an unconditional model; this one is conditional on the label")
    z = torch.linspace(-bound, bound, nodes, device=x.device).unsqueeze(1)           # (n, 1)
    log_step = math.log(2 * bound / (nodes - 1)) if nodes > 1 else 0.0
    with model.fixed_prior():
        log_prior = model.prior.log_prob(z).double() + log_step                     # (n,)
    decoded = model.decode(z)                                                        # batch (n,), event (C, H, W)
    if gaussian_product and isinstance(decoded, Independent) and type(decoded.base_dist) is Normal:
        return _gaussian_product(decoded.base_dist, x, log_prior)
    block = max(1, MAX_ELEMENTS // (nodes * max(1, x[0].numel())))
    out = [torch.logsumexp(decoded.log_prob(x[i:i + block].unsqueeze(1)).double() + log_prior, dim=1)
           for i in range(0, len(x), block)]                                         # (b, n) -> (b,)
    return torch.cat(out).to(x.dtype) if out else x.new_empty(0)


def _gaussian_product(p: Normal, x: torch.Tensor, log_prior: torch.Tensor) -> torch.Tensor:
    """logsumexp_j(log_prior_j + log N(x; μ_j, s_j²)) for every point: x (N, ...) -> (N,), the module's product."""
    mean, var = p.loc.flatten(1).double(), p.scale.flatten(1).double() ** 2     # (n, D)
    a = 1.0 / var
    weights = torch.cat([-0.5 * a, a * mean], dim=1).T                           # (2D, n)
    const = -0.5 * (a * mean * mean + torch.log(2 * math.pi * var)).sum(1) + log_prior   # (n,)
    points = x.flatten(1).double()                                               # (N, D)
    block = max(1, MAX_ELEMENTS // len(const))
    out = [torch.logsumexp(torch.addmm(const, torch.cat([b * b, b], dim=1), weights), dim=1)
           for b in points.split(block)]
    return torch.cat(out).to(x.dtype) if out else x.new_empty(0)
