"""The importance-sampled estimate of log p(x), batched over examples and samples.

    log p(x) ≈ log (1/k) Σ_i p(x, z_i)/q(z_i|x),   z_i ~ q(z|x)

computed as logsumexp(log w) - log k (``objectives.iwae``, whose ``log_px`` is the same without
the sharing among ranks).  Its expectation is the IWAE
bound L_k <= log p(x), which rises to log p(x) as k grows; log p(x) - ELBO is the
KL(q(z|x) || p(z|x)) the lecture's derivation drops.  Works on any
``models.protocol.LatentVariableModel`` (``encode`` and ``log_likelihood``).
"""

from __future__ import annotations

import math

import torch

from ..objectives.iwae import log_px_batch
from ..validate import positive_int
from .shards import batches


@torch.no_grad()
def log_px(model, x: torch.Tensor, k: int = 5000, batch_size: int = 100, generator: torch.Generator | None = None,
           max_rows: int = 4096, seed: int | None = None, y: torch.Tensor | None = None) -> torch.Tensor:
    """Per-example estimate of log p(x) in nats: x (N, C, H, W) in [0, 1] -> (N,).

    Examples go ``batch_size`` at a time; the k samples of a batch are drawn in chunks of at
    most ``max_rows`` decoded images, and the log-sum-exp over the k weights is accumulated
    chunk by chunk (a running maximum and a float64 sum of exp(log w - max)), so memory is
    bounded (about max_rows · pixels · 16 bytes) whatever k is.  4096 rows keep a chunk's
    logits (13 MB for MNIST) in the CPU's cache between the matrix product and the softplus
    (measured against larger chunks: ``docs/performance.md``, "Chunks of 4,096 decodes").

    With ``seed`` instead of ``generator``, each batch draws from its own generator
    (``shards.seeded_batches``) and, under torchrun, this process computes only its share of
    the batches: the result is then the estimates of those examples only (in batch order), the
    same values one process would compute for them.  Reduce sums over ranks to combine them.
    y (N,): the classes of a conditional model (the estimate is then of log p(x|y)).
    """
    positive_int("k", k)
    positive_int("batch_size", batch_size)
    positive_int("max_rows", max_rows)
    parts = batches(len(x), batch_size, x.device, generator, seed)
    out = [x.new_empty(0)]
    with model.fixed_prior():     # the VampPrior's pseudo-inputs encoded once, not once per chunk
        for rows, generator in parts:
            out.append(log_px_batch(model, x[rows], k, max_rows, generator, None if y is None else y[rows]))
    return torch.cat(out)

