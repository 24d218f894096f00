"""Batched ELBO evaluation over a whole split."""

from __future__ import annotations

import torch

from ..objectives.elbo import elbo_terms
from ..validate import positive_int


@torch.no_grad()
def elbo_sums(model, x: torch.Tensor, batch_size: int = 1024, generator: torch.Generator | None = None) -> dict:
    """Sums over the examples of x (N, C, H, W) in [0, 1], as device tensors (no host sync).

    Returns {"recon": Σ log p(x|c) (scalar), "kl_per_dim": Σ KL per latent dimension (L,) or
    None for a plain autoencoder, "n": N}.  Divide by n for per-example nats.
    """
    positive_int("batch_size", batch_size)
    recon = torch.zeros((), device=x.device)
    kl = None
    for i in range(0, len(x), batch_size):
        r, k = elbo_terms(model, x[i:i + batch_size], generator)
        recon += r.sum()
        if k is not None:
            kl = k.sum(0) if kl is None else kl + k.sum(0)
    return {"recon": recon, "kl_per_dim": kl, "n": len(x)}


def elbo_means(model, x: torch.Tensor, batch_size: int = 1024, generator: torch.Generator | None = None) -> dict:
    """Per-example means in nats as Python floats: elbo, recon, kl (kl = 0 for a plain AE)."""
    s = elbo_sums(model, x, batch_size, generator)
    recon = s["recon"].item() / s["n"]
    kl = 0.0 if s["kl_per_dim"] is None else s["kl_per_dim"].sum().item() / s["n"]
    return {"elbo": recon - kl, "recon": recon, "kl": kl}
