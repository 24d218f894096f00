"""Everything ``vaekit eval`` reports about a model on one split, per example, in nats.

    elbo = recon - kl           L_b = E_q[log p(x|z)] - KL(q(z|x) || p(z))
    log_px                      importance-sampled log p(x), k samples (likelihood.log_px)
    gap  = log_px - elbo        estimates KL(q(z|x) || p(z|x)), the term L_b leaves out
    log_px_exact                the exact log p(x), where the model has one (arch linear)
    bits_per_dim                -log_px in bits per pixel (data.transforms.bits_per_dim)
    active_units                dims u with Cov_x(E_q[z_u|x]) > 0.01 (Burda et al. 2016)
"""

from __future__ import annotations

import math
import time

import torch

from .. import distributed
from ..data.transforms import bits_per_dim
from ..errors import VaekitError
from ..models.inputs import check_input
from ..validate import positive_int
from .elbo import elbo_sums
from .likelihood import log_px

ACTIVE_THRESHOLD = 0.01


@torch.no_grad()
def active_units(model, x: torch.Tensor, batch_size: int = 1024, y: torch.Tensor | None = None) -> tuple[int, torch.Tensor]:
    """(number of active dimensions, Cov_x(E_q[z|x]) per dimension (L,)) over x (N, C, H, W).

    Under torchrun each rank encodes its share of x (``distributed.split``) and the sums of m
    and m² (float64) are reduced: the unbiased variance of m over all N examples.  y (N,): the
    classes of a conditional model (its codes are those of q(z|x, y)).
    """
    share = distributed.split(len(x))
    part = x[share]
    ys = None if y is None else y[share]

    def codes(i):
        return model.encode(part[i:i + batch_size])[0] if ys is None else model.encode(part[i:i + batch_size],
                                                                                       ys[i:i + batch_size])[0]
    m = torch.cat([codes(i) for i in range(0, len(part), batch_size)]
                  or [x.new_zeros(0, model.latent_dim)]).double()
    sums = distributed.all_sum(torch.stack([m.sum(0), (m * m).sum(0)]))                # (2, L)
    n = len(x)
    var = (sums[1] - sums[0] ** 2 / n) / max(n - 1, 1)
    return int((var > ACTIVE_THRESHOLD).sum()), var.clamp_min(0)


@torch.no_grad()
def evaluate(model, x: torch.Tensor, k: int = 5000, batch_size: int = 100, seed: int = 0, split: str = "test",
             continuous: bool = False, y: torch.Tensor | None = None) -> dict:
    """The full report for a ``models.protocol.DensityModel`` on x: a VAE, or the GMM.

    x: (N, C, H, W), already binarised/dequantised for the model's likelihood
    (``Dataset.model_input``).  A model whose ``log_prob`` is an estimate (the VAE) gets the
    ELBO, its parts, log p(x) from k importance samples, the gap and the active units; one
    whose ``log_prob`` is exact (the GMM) gets log p(x) alone.  Returns the JSON-ready dict of
    ``vaekit eval --json``; every value per example, nats unless named.  A conditional model
    needs y (N,), each example's class: the bound and the estimate are then of log p(x|y), and
    the report says so (``conditioned_on``: "label"; else null).
    """
    positive_int("k", k)
    positive_int("batch_size", batch_size)
    check_input(model, x)
    start = time.perf_counter()
    dims = math.prod(x.shape[1:])
    n = len(x)
    if model.log_prob_is_exact:   # the "bound" is the log-likelihood itself
        lp = model.log_prob(x)
        kl_per_dim, active, k = [], None, None
        report = {"elbo": None, "recon": None, "kl": None}
    else:
        if not model.is_variational:
            raise VaekitError("log p(x) needs a VAE or a GMM; this run is a plain autoencoder (no q(z|x), no P(x))")
        # Each batch draws from its own seeded generator (``shards``): the same numbers whether
        # one process or torchrun's ranks share the batches.
        sums = elbo_sums(model, x, batch_size=max(batch_size, 1024), seed=seed, y=y)
        recon = sums["recon"].item() / n
        kl_per_dim = (sums["kl_per_dim"] / n).tolist()
        kl_total = sum(kl_per_dim)
        if not model.kl_in_closed_form:   # a one-sample estimate of the whole KL: no KL per dimension
            kl_per_dim = []
        lp = log_px(model, x, k=k, batch_size=batch_size, seed=seed + 1, y=y)   # this rank's examples
        active, _ = active_units(model, x, y=y)
        report = {"elbo": recon - kl_total, "recon": recon, "kl": kl_total}
    total, squares = lp.double().sum().item(), (lp.double() ** 2).sum().item()
    if not model.log_prob_is_exact:   # each rank estimated its share of the examples
        total, squares = distributed.sum_floats(total, squares)
    mean = total / n
    se = math.sqrt(max(squares / n - mean * mean, 0.0) * n / (n - 1)) / math.sqrt(n) if n > 1 else float("nan")
    report.update({
        "log_px": mean,
        "log_px_se": se,
        "gap": None if report["elbo"] is None else mean - report["elbo"],
        "bits_per_dim": bits_per_dim(mean, dims, model.likelihood, continuous),
        "active_units": active,
        "latent_dim": None if model.log_prob_is_exact else model.latent_dim,   # what active_units counts among
        "kl_per_dim": kl_per_dim,
        "conditioned_on": "label" if getattr(model, "conditional", False) else None,
        "k": k,
        "split": split,
        "n": n,
        "seconds": time.perf_counter() - start,
    })
    if getattr(model, "has_exact_log_prob", False):   # the linear VAE: log p(x) in closed form too
        report["log_px_exact"] = model.exact_log_prob(x).double().mean().item()
        report["seconds"] = time.perf_counter() - start
    return report
