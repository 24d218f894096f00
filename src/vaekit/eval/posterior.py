"""What the encoder's q(z|x) = N(m, diag exp(σ)) looks like, and how tight the bounds built on it are.

Notation as in the lecture (σ is the *log*-variance of the code noise, ``models.vae``):

    m, σ          the encoder's outputs for one image, (L,) each
    exp(σ)        the noise variance per latent dimension; the KL term pulls it to 1 (σ = 0)
    c = m + exp(σ/2)·e, e ~ N(0, I)      the noisy code
    L_k           E[log (1/k) Σ_i w_i], w_i = p(x, z_i)/q(z_i|x), z_i ~ q(z|x)  (Burda et al. 2016)
                  L_1 = L_b (the ELBO) <= L_k <= L_k' <= log p(x) for k <= k'

Section 2 of ``vaekit lecture`` (the variance constraint) uses ``encode_all`` and
``variance_stats``; section 4 (the bound) uses ``bounds_by_k`` and ``mean_se``.  Every function
runs under ``torch.no_grad`` and is batched; values are nats unless named.
"""

from __future__ import annotations

import math

import torch

from ..models.gaussian import kl_standard_normal
from ..objectives.elbo import elbo
from ..objectives.iwae import log_weights
from ..validate import positive_int
from .elbo import elbo_means

COLLAPSED = 0.01   # a noise variance exp(σ) below this is "collapsed": a code almost without noise


@torch.no_grad()
def encode_all(model, x: torch.Tensor, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's (m, σ) for every example: x (N, C, H, W) -> m (N, L), σ = log_var (N, L).

    ``model`` must be variational (a plain autoencoder has no σ: ValueError).
    """
    positive_int("batch_size", batch_size)
    ms, log_vars = [], []
    for i in range(0, len(x), batch_size):
        m, log_var = model.encode(x[i:i + batch_size])
        if log_var is None:
            raise ValueError("encode_all needs a VAE (an encoder with a variance σ); got a plain autoencoder")
        ms.append(m)
        log_vars.append(log_var)
    return torch.cat(ms), torch.cat(log_vars)


def variance_stats(m: torch.Tensor, log_var: torch.Tensor) -> dict[str, float]:
    """Summaries of the codes of N examples, m and σ = log_var: (N, L) each.  Python floats:

    mean_exp_sigma    mean over examples and dimensions of exp(σ), the noise variance (prior: 1)
    median_sigma      median of σ over examples and dimensions (prior: 0)
    collapsed         fraction of (example, dimension) entries with exp(σ) < COLLAPSED
    mean_m_sq         mean ‖m‖²/L: the codes' second moment per dimension
    second_moment     mean (‖m‖² + Σ exp(σ))/L = E‖c‖²/L, the noisy codes' second moment per
                      dimension; 1 when the aggregate q(z) = mean_x q(z|x) has the prior N(0, I)'s
                      second moment, far from 1 when samples z ~ N(0, I) land where no code is
    kl                mean KL(q(z|x) ‖ N(0, I)) per example, nats: ½ Σ (exp(σ) − (1 + σ) + m²)
    """
    m, log_var = m.double(), log_var.double()
    latent = m.shape[1]
    var = log_var.exp()
    m_sq = m.pow(2).sum(1)
    return {
        "mean_exp_sigma": var.mean().item(),
        "median_sigma": log_var.median().item(),
        "collapsed": (var < COLLAPSED).double().mean().item(),
        "mean_m_sq": (m_sq / latent).mean().item(),
        "second_moment": ((m_sq + var.sum(1)) / latent).mean().item(),
        "kl": kl_standard_normal(m, log_var).sum(1).mean().item(),
    }


@torch.no_grad()
def reconstruction(model, x: torch.Tensor, target: torch.Tensor, generator: torch.Generator | None = None,
                   batch_size: int = 1024) -> dict[str, float]:
    """How well a model gives back its inputs.  x: (N, C, H, W), the model's input
    (``Dataset.model_input``); target: (N, C, H, W) in [0, 1], the images to compare the
    decoded mean with (pixels / 255).  Python floats:

    recon   −E_q log p(x|c) per example, nats, one noisy code c ~ q(z|x) per example
    kl      KL(q(z|x) ‖ N(0, I)) per example, nats
    elbo    L_b = −recon − kl per example, nats
    mse     mean squared pixel error of the mean image decoded from m, pixels in [0, 1]
    """
    positive_int("batch_size", batch_size)
    means = elbo_means(model, x, batch_size=batch_size, generator=generator)
    sq = torch.zeros((), dtype=torch.float64, device=x.device)
    for i in range(0, len(x), batch_size):
        m, _ = model.encode(x[i:i + batch_size])
        sq += (model.decode(m).mean - target[i:i + batch_size]).double().pow(2).sum()
    return {"recon": -means["recon"], "kl": means["kl"], "elbo": means["elbo"],
            "mse": sq.item() / target.numel()}


@torch.no_grad()
def bounds_by_k(model, x: torch.Tensor, ks: tuple[int, ...], batch_size: int = 100,
                generator: torch.Generator | None = None, max_rows: int = 4096,
                q: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[int, torch.Tensor]:
    """Estimates of the bounds L_k, per example, for every k in ``ks``: {k: (N,)}, nats, float64.

    x: (N, C, H, W), the model's input.  K = max(ks) importance weights are drawn per example
    (``objectives.iwae.log_weights``) and every k must divide K: the K weights are cut into
    K/k disjoint groups of k, and L_k's estimate is the mean over the groups of
    log (1/k) Σ_{group} w_i.  Each group's value is an unbiased draw of L_k, so one set of
    weights serves every k (L_1 is the ELBO averaged over K codes; L_K is the usual
    importance-sampled log p(x) estimate, ``eval.likelihood.log_px``).  Memory: batch_size · K
    float64 weights at a time, drawn in chunks of at most ``max_rows`` decoded images.
    ``q`` = (m, σ), (N, L) each, replaces the encoder's q(z|x) (say, ``refine_q``'s).
    """
    if not ks:
        raise ValueError("ks must name at least one k")
    for k in ks:
        positive_int("k", k)
    big = max(ks)
    if any(big % k for k in ks):
        raise ValueError(f"every k must divide the largest, {big}; got ks={tuple(ks)}")
    positive_int("batch_size", batch_size)
    positive_int("max_rows", max_rows)
    out: dict[int, list[torch.Tensor]] = {k: [] for k in ks}
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        encoded = model.encode(xb) if q is None else (q[0][i:i + batch_size], q[1][i:i + batch_size])
        chunk = max(1, max_rows // len(xb))
        log_w = torch.cat([log_weights(model, xb, min(chunk, big - j), generator, encoded).double()
                           for j in range(0, big, chunk)])                       # (K, B)
        for k in ks:
            groups = log_w.view(big // k, k, len(xb))                              # (K/k, k, B)
            out[k].append((torch.logsumexp(groups, dim=1) - math.log(k)).mean(0))  # (B,)
    return {k: torch.cat(v) for k, v in out.items()}


def refine_q(model, x: torch.Tensor, steps: int = 30, samples: int = 4, lr: float = 0.05,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A better q(z|x) for each example with the decoder P(x|z) fixed: (m, σ), (N, L) each, detached.

    The lecture's step "fix P(x|z) and adjust q(z|x)": starting from the encoder's (m, σ),
    ``steps`` Adam steps (learning rate ``lr``) on every example's own (m, σ) at once, each
    maximising that example's ELBO (``objectives.elbo.elbo`` with q = (m, σ)) estimated with
    ``samples`` codes from the model's own posterior family and prior: the KL exact where the pair
    has a closed form (N(0, I) and a diagonal Gaussian), else estimated over the same codes.  log p(x) does not depend on q, so L_b can only approach it: the
    gap KL(q(z|x) ‖ P(z|x)) shrinks by what the encoder network left on the table (the
    amortisation gap, Cremer et al. 2018); what stays is what no diagonal Gaussian can close.
    The model is untouched (``torch.autograd.grad`` asks for the gradients of m and σ only).
    x: (N, C, H, W), the model's input; all N examples each step (N · samples codes).

    Adam is written out (Kingma & Ba 2015, Algorithm 1) rather than taken from ``torch.optim``,
    whose first use in a process imports ``torch._dynamo`` (its time: docs/performance.md): more
    than this whole loop on the 8×8 digits, and a cached ``vaekit lecture`` call uses no other
    optimiser.
    """
    positive_int("steps", steps)
    positive_int("samples", samples)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    with torch.no_grad():
        m0, log_var0 = model.encode(x)
    q = [m0.detach().clone().requires_grad_(True), log_var0.detach().clone().requires_grad_(True)]
    first = [torch.zeros_like(t) for t in q]
    second = [torch.zeros_like(t) for t in q]
    for t in range(1, steps + 1):
        with torch.enable_grad():
            recon, kl = elbo(model, x, generator, q=tuple(q), samples=samples)   # (N,), (N, L or 1)
            # a sum: each example's (m, σ) gets the gradient of its own ELBO
            grads = torch.autograd.grad((recon - kl.sum(-1)).sum(), q)
        with torch.no_grad():
            for p, g, m1, m2 in zip(q, grads, first, second):
                m1.mul_(beta1).add_(g, alpha=1 - beta1)
                m2.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                step = lr * (m1 / (1 - beta1 ** t)) / ((m2 / (1 - beta2 ** t)).sqrt() + eps)
                p.add_(step)                                                     # ascent: the ELBO rises
    return q[0].detach(), q[1].detach()


def mean_se(values: torch.Tensor) -> tuple[float, float]:
    """The mean of per-example values (N,) and its standard error (std / √N; NaN for N < 2)."""
    v = values.double()
    se = v.std().item() / math.sqrt(len(v)) if len(v) > 1 else float("nan")
    return v.mean().item(), se
