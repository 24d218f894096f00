"""Importance weights and the importance-weighted bound (Burda et al. 2016).

    log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x),   z_i ~ q(z|x)
    L_K     = E[ log (1/K) Σ_i w_i ] = E[ logsumexp_i(log w_i) - log K ]

L_1 is the ELBO; L_K rises with K and tends to log p(x).  The same weights, with many
samples, give the importance-sampled estimate of log p(x) (``log_px``; ``VAE.log_prob``, and
``eval.likelihood.log_px`` shares its batches among torchrun's ranks).
"""

from __future__ import annotations

import math

import torch

from ..errors import VaekitError
from ..validate import positive_int


def log_weights(model, x: torch.Tensor, k: int, generator: torch.Generator | None = None,
                encoded: tuple[torch.Tensor, torch.Tensor] | None = None, y=None) -> torch.Tensor:
    """log w for k samples per example: x: (B, C, H, W) -> (k, B), nats.

    ``model`` is a ``models.protocol.LatentVariableModel``: its posterior ``q(m, σ)`` draws the k
    codes and their log q(z|x) (through the flow's log-determinant for the IAF), its ``prior``
    scores log p(z), ``log_likelihood`` scores log p(x|z) for every example at once,
    without argument checks (this is the inner loop of training with ``--objective iwae`` and
    of the log p(x) estimate).  ``encoded`` = (m, log_var) skips re-running the encoder when
    drawing samples in chunks.
    """
    if encoded is not None:
        m, log_var = encoded
    else:
        m, log_var = model.encode(x) if y is None else model.encode(x, y)
    if log_var is None:
        raise VaekitError("importance weights need a VAE (an encoder with a variance); got a plain autoencoder")
    z, log_q = model.q(m, log_var).rsample(k, generator)                      # (k, B, L), (k, B)
    log_prior = model.prior.log_prob(z)                                       # (k, B)
    log_lik = model.log_likelihood(z, x) if y is None else model.log_likelihood(z, x, y)   # (k, B)
    return log_lik + log_prior - log_q


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """log (1/K) Σ_i w_i per example, computed stably: log_w (K, B) -> (B,), nats."""
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def negative_iwae(model, x: torch.Tensor, k: int, generator: torch.Generator | None = None, y=None) -> torch.Tensor:
    """The IWAE training loss per example, -L_K, nats, shape (B,) (y: the classes of a conditional model)."""
    return -iwae_bound(log_weights(model, x, k, generator, y=y))


@torch.no_grad()
def log_px_batch(model, xb: torch.Tensor, k: int, max_rows: int = 4096,
                 generator: torch.Generator | None = None, y=None) -> torch.Tensor:
    """The importance-sampled log p(x) of one batch: xb (B, C, H, W) -> (B,), nats.

    log (1/k) Σ_i w_i with the k weights drawn in chunks of at most ``max_rows`` decoded images,
    the log-sum-exp accumulated chunk by chunk (a running maximum and a float64 sum of
    exp(log w − max)), so memory is bounded (about max_rows · pixels · 16 bytes) whatever k is.
    y: the batch's classes for a conditional model (the estimate is then of log p(x|y)).
    """
    encoded = model.encode(xb) if y is None else model.encode(xb, y)
    chunk = max(1, max_rows // len(xb))
    top = total = None                                   # running max of log w, Σ exp(log w - top): (B,)
    for j in range(0, k, chunk):
        log_w = log_weights(model, xb, min(chunk, k - j), generator, encoded, y).double()   # (c, B)
        new_top = log_w.max(0).values if top is None else torch.maximum(top, log_w.max(0).values)
        new_top = torch.where(torch.isfinite(new_top), new_top, 0.0)   # all -inf: keep exp() finite
        scaled = (log_w - new_top).exp().sum(0)
        total = scaled if total is None else total * (top - new_top).exp() + scaled
        top = new_top
    return (top + total.log() - math.log(k)).to(xb.dtype)     # log (1/k) Σ_i w_i, as iwae_bound


@torch.no_grad()
def log_px(model, x: torch.Tensor, k: int = 5000, batch_size: int = 100, generator: torch.Generator | None = None,
           max_rows: int = 4096, y=None) -> torch.Tensor:
    """Per-example estimate of log p(x) in nats: x (N, C, H, W) -> (N,), ``batch_size`` examples at a time.

    log p(x) ≈ log (1/k) Σ_i p(x, z_i)/q(z_i|x), z_i ~ q(z|x); its expectation is L_k <= log p(x).
    """
    positive_int("k", k)
    positive_int("batch_size", batch_size)
    positive_int("max_rows", max_rows)
    out = [x.new_empty(0)]
    with model.fixed_prior():     # the VampPrior's pseudo-inputs encoded once, not once per chunk
        for i in range(0, len(x), batch_size):
            yb = None if y is None else y[i:i + batch_size]
            out.append(log_px_batch(model, x[i:i + batch_size], k, max_rows, generator, yb))
    return torch.cat(out)
