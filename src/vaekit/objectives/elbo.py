"""The evidence lower bound L_b, per example, in nats.

    log P(x) = L_b + KL(q(z|x) || P(z|x))                        (lecture, "Maximum likelihood")
    L_b      = E_q[log P(x|z)] - KL(q(z|x) || P(z)),  P(z) = N(0, I)

Training minimises the negative ELBO, -E_q[log p(x|z)] + β·KL; β = 1 is the true bound.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

LOG_2PI = math.log(2 * math.pi)


def kl_standard_normal(m: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(m, exp(σ)) || N(0, 1)) per latent dimension, in nats.

    The lecture's penalty ½(exp(σ) − (1 + σ) + m²) with σ the log-variance: exp(σ) − (1+σ)
    is the green curve, zero only at σ = 0 (variance 1).  m, log_var: (B, L) -> (B, L).
    """
    return 0.5 * (torch.exp(log_var) - (1 + log_var) + m.pow(2))


def standard_noise(m: torch.Tensor, generator: torch.Generator | None = None,
                   samples: int | None = None) -> torch.Tensor:
    """e ~ N(0, I) shaped as m (B, L), or (samples, B, L); on m's device, in m's dtype."""
    shape = m.shape if samples is None else (samples, *m.shape)
    return torch.randn(shape, generator=generator, device=m.device, dtype=m.dtype)


def reparameterize(m: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None,
                   samples: int | None = None) -> torch.Tensor:
    """The noisy code c = m + exp(σ/2)·e, e ~ N(0, I) (σ = log-variance, so exp(σ/2) is the std).

    m, log_var: (B, L) -> (B, L), or (samples, B, L) when ``samples`` is given.
    """
    return m + torch.exp(0.5 * log_var) * standard_noise(m, generator, samples)


def reparameterize_with_log_q(m: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None,
                              samples: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """c = m + exp(σ/2)·e as ``reparameterize`` (the same draws), and its density under q = N(m, exp(σ)):

        log q(c|x) = Σ_l log N(c_l; m_l, exp(σ_l)) = −½ Σ_l (e_l² + σ_l + log 2π)

    read off the noise e itself (c − m divided by the std again would only add rounding).
    Returns c (B, L) and log q (B,), nats, or (samples, B, L) and (samples, B).
    """
    e = standard_noise(m, generator, samples)
    z = m + torch.exp(0.5 * log_var) * e
    return z, -0.5 * (e * e + log_var + LOG_2PI).sum(-1)


class ElboTerms(NamedTuple):
    """The ELBO's parts for each example of a batch of B: L_b ≈ recon - kl.sum(-1).

    recon: (B,), nats: log p(x|c) at one noisy code c ~ q(z|x), a one-sample estimate of
    E_q[log p(x|z)] (for a plain autoencoder c = m).  kl: (B, L), nats per latent dimension:
    KL(q(z|x) || N(0, I)), exact; (B, 1) for a prior with no closed-form KL (the VampPrior):
    log q(c|x) − log p(c) at the same c, a one-sample estimate; None for a plain autoencoder.
    """

    recon: torch.Tensor
    kl: torch.Tensor | None


def elbo_terms(model, x: torch.Tensor, generator: torch.Generator | None = None) -> ElboTerms:
    """One-sample estimates of the ELBO's parts for each example: ``model(x, generator=...)``.

    x: (B, C, H, W) in [0, 1] -> ``ElboTerms`` (recon (B,), kl (B, L) or None), nats.  The
    model's ``forward`` computes them (``models.vae.VAE.forward``: encode, c = m + exp(σ/2)·e,
    decode), so hooks, ``torch.compile`` and DDP wrap what training runs.  The decoder's
    distribution is built without argument checks (``validate=False``): this is the
    training loop's hot path, and its callers hand it binarised or dequantised batches.
    """
    return model(x, generator=generator, validate=False)


def negative_elbo(model, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None,
                  free_bits: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The training loss per example: -log p(x|c) + β·KL(q(z|x) || N(0, I)), nats, shape (B,).

    Returns (loss, recon, kl_per_dim).  With ``free_bits`` λ > 0 each latent dimension's
    KL, averaged over the batch, is charged at least λ nats (Kingma et al. 2016, "free
    bits"): dimensions below λ get no gradient pushing them further to the prior.  The
    autoencoder's loss is its reconstruction term alone.
    """
    recon, kl = elbo_terms(model, x, generator)
    if kl is None:
        return -recon, recon, None
    if free_bits > 0:
        charged = torch.clamp(kl.mean(0), min=free_bits).sum()   # scalar, same for every example
        return -recon + beta * charged, recon, kl
    return -recon + beta * kl.sum(-1), recon, kl
