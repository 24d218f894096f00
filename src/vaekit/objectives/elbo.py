"""The evidence lower bound L_b, per example, in nats: the one ELBO every caller shares.

    log P(x) = L_b + KL(q(z|x) || P(z|x))                        (lecture, "Maximum likelihood")
    L_b      = E_q[log P(x|z)] - KL(q(z|x) || P(z))

computed from the model's parts (``models.vae``): its posterior q(z|x) draws the code, its
prior gives the KL (in closed form where the pair has one: N(0, I) and a diagonal Gaussian;
else the estimate log q(c|x) − log p(c) at the same codes), its decoder log p(x|c).
``VAE.forward`` (``model(x)``), training, evaluation, the explorer's score and ``refine_q``
all call ``elbo``.  Training minimises the negative ELBO, -E_q[log p(x|z)] + β·KL; β = 1 is
the true bound.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

# the Gaussian algebra lives with the parts; named here too, where callers have long found it
from ..models.gaussian import LOG_2PI, kl_standard_normal, reparameterize, reparameterize_with_log_q, standard_noise  # noqa: F401


class ElboTerms(NamedTuple):
    """The ELBO's parts for each example of a batch of B: L_b ≈ recon - kl.sum(-1).

    recon: (B,), nats: log p(x|c) at one noisy code c ~ q(z|x), a one-sample estimate of
    E_q[log p(x|z)] (for a plain autoencoder c = m).  kl: (B, L), nats per latent dimension:
    KL(q(z|x) || p(z)), exact, where the prior and posterior have a closed form (N(0, I) and a
    diagonal Gaussian); (B, 1) otherwise (the VampPrior, the mixture prior, two layers, the IAF):
    log q(c|x) − log p(c) at the same c, a one-sample estimate; None for a plain autoencoder.
    """

    recon: torch.Tensor
    kl: torch.Tensor | None


def elbo(model, x: torch.Tensor, generator: torch.Generator | None = None, validate: bool = True,
         q: tuple[torch.Tensor, torch.Tensor] | None = None, samples: int | None = None, y=None) -> ElboTerms:
    """The ELBO's parts for each example of x (B, C, H, W), from the model's parts: ``ElboTerms``, nats.

    q(z|x) is the encoder's, or ``q`` = (m, σ) (B, L) each in its place (``eval.posterior.refine_q``
    optimises them).  One code c ~ q(z|x) per example (``generator``), or with ``samples`` = S the
    means over S codes:

        recon = log p(x|c)                            (B,)
        kl    = KL(q(z|x) ‖ p(z)) per dimension        (B, L), where the prior offers a closed form
              = log q(c|x) − log p(c)                  (B, 1), a one-sample (or S-sample) estimate otherwise

    A plain autoencoder (no q) decodes c = m and has kl None.  ``validate=False`` builds p(x|c)
    without argument checks (the training loop's hot path).  y: each example's class for a
    conditional model, q(z|x, y) and p(x|z, y): the bound on log p(x|y).
    """
    if q is None:
        m, log_var = model.encode(x, y) if y is not None else model.encode(x)
        if log_var is None:
            return ElboTerms(model.decode(m, validate, y=y).log_prob(x), None)
    else:
        m, log_var = q
    posterior = model.q(m, log_var)
    z, log_q = posterior.rsample(samples, generator)                           # (B, L) or (S, B, L)
    # the reconstruction first, then the KL: the order autograd sums the encoder's gradients in
    recon = model.decode(z, validate, y=y).log_prob(x) if samples is None else model.log_likelihood(z, x, y=y).mean(0)
    kl = model.prior.kl(posterior)                                             # (B, L), or None
    if kl is None:
        kl = (log_q - model.prior.log_prob(z)).unsqueeze(-1)                    # (B, 1) or (S, B, 1)
        if samples is not None:
            kl = kl.mean(0)
    return ElboTerms(recon, kl)


def elbo_terms(model, x: torch.Tensor, generator: torch.Generator | None = None, y=None) -> ElboTerms:
    """One-sample estimates of the ELBO's parts for each example: ``model(x, generator=...)``.

    x: (B, C, H, W) in [0, 1] -> ``ElboTerms`` (recon (B,), kl (B, L) or None), nats.  The
    model's ``forward`` computes them (``VAE.forward`` calls ``elbo``), so hooks,
    ``torch.compile`` and DDP wrap what training runs.  The decoder's
    distribution is built without argument checks (``validate=False``): this is the
    training loop's hot path, and its callers hand it binarised or dequantised batches.
    """
    if y is None:
        return model(x, generator=generator, validate=False)
    return model(x, generator=generator, validate=False, y=y)


def negative_elbo(model, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None,
                  free_bits: float = 0.0, y=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The training loss per example: -log p(x|c) + β·KL(q(z|x) || N(0, I)), nats, shape (B,).

    Returns (loss, recon, kl_per_dim).  With ``free_bits`` λ > 0 each latent dimension's
    KL, averaged over the batch, is charged at least λ nats (Kingma et al. 2016, "free
    bits"): dimensions below λ get no gradient pushing them further to the prior.  The
    autoencoder's loss is its reconstruction term alone.
    """
    recon, kl = elbo_terms(model, x, generator, y)
    if kl is None:
        return -recon, recon, None
    if free_bits > 0:
        charged = torch.clamp(kl.mean(0), min=free_bits).sum()   # scalar, same for every example
        return -recon + beta * charged, recon, kl
    return -recon + beta * kl.sum(-1), recon, kl
