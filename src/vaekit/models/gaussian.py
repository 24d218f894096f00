"""Diagonal Gaussians with log-variances: the algebra every prior and posterior shares.

Notation (lecture -> code), σ the *log-variance*:

    m  = the mean                                -> ``m``        (..., L)
    σ  = log of the variance, exp(σ) > 0          -> ``log_var``  (..., L)
    e  ~ N(0, I)                                  -> ``e``
    c  = m + exp(σ/2)·e, a draw                   -> ``z``

The lecture writes c = m + exp(σ)·e while also calling exp(σ) the variance; the noise
scale must be the standard deviation exp(σ/2) for both statements to hold, so that is
what we use.  Values are nats; the functions are written for hot loops (no argument checks).
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal

from .logspace import logsumexp

LOG_2PI = math.log(2 * math.pi)


def log_normal(z: torch.Tensor, m: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Σ_l log N(z_l; m_l, exp(σ_l)) = −½ Σ_l [(z_l − m_l)² exp(−σ_l) + σ_l + log 2π]: (..., L) -> (...)."""
    d = z - m
    return -0.5 * (d * d * torch.exp(-log_var) + log_var + LOG_2PI).sum(-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """Σ_l log N(z_l; 0, 1): (..., L) -> (...)."""
    return Normal(0.0, 1.0, validate_args=False).log_prob(z).sum(-1)


def kl_standard_normal(m: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(m, exp(σ)) || N(0, 1)) per dimension: (..., L) -> (..., L).

    The lecture's penalty ½(exp(σ) − (1 + σ) + m²) with σ the log-variance: exp(σ) − (1+σ)
    is the green curve, zero only at σ = 0 (variance 1).
    """
    return 0.5 * (torch.exp(log_var) - (1 + log_var) + m.pow(2))


def standard_noise(m: torch.Tensor, generator: torch.Generator | None = None,
                   samples: int | None = None) -> torch.Tensor:
    """e ~ N(0, I) shaped as m (B, L), or (samples, B, L); on m's device, in m's dtype."""
    shape = m.shape if samples is None else (samples, *m.shape)
    return torch.randn(shape, generator=generator, device=m.device, dtype=m.dtype)


def reparameterize(m: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None,
                   samples: int | None = None) -> torch.Tensor:
    """The noisy code c = m + exp(σ/2)·e, e ~ N(0, I): (B, L) -> (B, L), or (samples, B, L)."""
    return m + torch.exp(0.5 * log_var) * standard_noise(m, generator, samples)


def reparameterize_with_log_q(m: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None,
                              samples: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """c = m + exp(σ/2)·e as ``reparameterize`` (the same draws), and its log-density under N(m, exp(σ)):

        log q(c) = Σ_l log N(c_l; m_l, exp(σ_l)) = −½ Σ_l (e_l² + σ_l + log 2π)

    read off the noise e itself (c − m divided by the std again would only add rounding).
    Returns c (B, L) and log q (B,), or (samples, B, L) and (samples, B).
    """
    e = standard_noise(m, generator, samples)
    z = m + torch.exp(0.5 * log_var) * e
    return z, -0.5 * (e * e + log_var + LOG_2PI).sum(-1)


def diagonal_components(m: torch.Tensor, log_var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """K diagonal Gaussians N(m_k, v_k), v = exp(σ), as log N(z; m_k, v_k) = const_k + [z, z²]·w_k.

    m, log_var: (K, L) -> const (K,) = −½ Σ_l [log 2π + σ_kl + m_kl²/v_kl] and
    w (K, 2L) = [m_k/v_k, −½/v_k]: the table ``log_mixture`` scores codes against.
    """
    precision = torch.exp(-log_var)                                                      # 1/v, (K, L)
    const = -0.5 * (log_var + m * m * precision + LOG_2PI).sum(-1)                       # (K,)
    return const, torch.cat([m * precision, -0.5 * precision], -1)


def log_mixture(z: torch.Tensor, const: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """log Σ_k exp(const_k + [z, z²]·w_k) for the table of ``diagonal_components``: z (..., L) -> (...).

    One matrix product for all K components, instead of a (..., K, L) tensor of differences
    (328 MB for a chunk of 4096 codes, K = 500, L = 40).  Mixture weights go into const
    (add log π_k).
    """
    zz = torch.cat([z, z * z], -1).reshape(-1, weights.shape[1])                          # (N, 2L)
    log_q = torch.addmm(const, zz, weights.T).view(*z.shape[:-1], -1)                     # (..., K)
    return logsumexp(log_q, overwrite=True)                                              # log_q is ours
