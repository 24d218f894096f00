"""Batched ELBO evaluation over a whole split."""

from __future__ import annotations

import torch

from .. import distributed
from ..objectives.elbo import elbo_terms
from ..validate import positive_int
from .shards import batches


@torch.no_grad()
def elbo_sums(model, x: torch.Tensor, batch_size: int = 1024, generator: torch.Generator | None = None,
              seed: int | None = None, y: torch.Tensor | None = None) -> dict:
    """Sums over the examples of x (N, C, H, W) in [0, 1], as device tensors (no host sync).

    Returns {"recon": Σ log p(x|c) (scalar), "kl_per_dim": Σ KL per latent dimension (L,) or
    None for a plain autoencoder, "n": N}.  Divide by n for per-example nats.  The noise comes
    from ``generator``, batch after batch; or, with ``seed``, from one generator per batch
    (``shards.seeded_batches``), the batches shared among torchrun's ranks and the sums
    reduced over them: the same sums whatever the number of processes.  y (N,): the classes of a
    conditional model (the bound is then on log p(x|y)).
    """
    positive_int("batch_size", batch_size)
    parts = batches(len(x), batch_size, x.device, generator, seed)
    recon = torch.zeros((), device=x.device)
    kl = None
    with model.fixed_prior():     # the VampPrior's pseudo-inputs encoded once, not once per batch
        for rows, g in parts:
            r, k = elbo_terms(model, x[rows], g, None if y is None else y[rows])
            recon += r.sum()
            if k is not None:
                kl = k.sum(0) if kl is None else kl + k.sum(0)
    if seed is not None:
        recon = distributed.all_sum(recon)
        if model.is_variational:   # a rank with no batch still adds its zeros
            kl = distributed.all_sum(kl if kl is not None else torch.zeros(model.kl_size,
                                                                           device=x.device))
    return {"recon": recon, "kl_per_dim": kl, "n": len(x)}


def elbo_means(model, x: torch.Tensor, batch_size: int = 1024, generator: torch.Generator | None = None,
               seed: int | None = None, y: torch.Tensor | None = None) -> dict:
    """Per-example means in nats as Python floats: elbo, recon, kl (kl = 0 for a plain AE); ``seed`` as ``elbo_sums``."""
    s = elbo_sums(model, x, batch_size, generator, seed, y)
    recon = s["recon"].item() / s["n"]
    kl = 0.0 if s["kl_per_dim"] is None else s["kl_per_dim"].sum().item() / s["n"]
    return {"elbo": recon - kl, "recon": recon, "kl": kl}
