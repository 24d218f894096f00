"""Importance weights and the importance-weighted bound (Burda et al. 2016).

    log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x),   z_i ~ q(z|x)
    L_K     = E[ log (1/K) Σ_i w_i ] = E[ logsumexp_i(log w_i) - log K ]

L_1 is the ELBO; L_K rises with K and tends to log p(x).  The same weights, with many
samples, give the importance-sampled estimate of log p(x) in ``eval.likelihood``.
"""

from __future__ import annotations

import math

import torch

from ..errors import VaekitError


def log_weights(model, x: torch.Tensor, k: int, generator: torch.Generator | None = None,
                encoded: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """log w for k samples per example: x: (B, C, H, W) -> (k, B), nats.

    ``model`` is a ``models.protocol.LatentVariableModel``: ``sample_posterior`` draws the k
    codes and their log q(z|x), ``log_likelihood`` scores them for every example at once,
    without argument checks (this is the inner loop of training with ``--objective iwae`` and
    of the log p(x) estimate).  ``encoded`` = (m, log_var) skips re-running the encoder when
    drawing samples in chunks.
    """
    m, log_var = encoded if encoded is not None else model.encode(x)
    if log_var is None:
        raise VaekitError("importance weights need a VAE (an encoder with a variance); got a plain autoencoder")
    z, log_q = model.sample_posterior(m, log_var, k, generator)               # (k, B, L), (k, B)
    log_prior = model.log_prior(z)                                            # (k, B): N(0, I), VampPrior, p(z2)p(z1|z2)
    log_lik = model.log_likelihood(z, x)                                      # (k, B)
    return log_lik + log_prior - log_q


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """log (1/K) Σ_i w_i per example, computed stably: log_w (K, B) -> (B,), nats."""
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def negative_iwae(model, x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The IWAE training loss per example, -L_K, nats, shape (B,)."""
    return -iwae_bound(log_weights(model, x, k, generator))
