"""What callers may ask of a model, so that none has to tell them apart with ``hasattr``.

Two protocols (``typing.Protocol``: a class satisfies one by having the members, without
inheriting from it):

``DensityModel`` is what evaluation and plotting use, shared by the VAE (``models.vae.VAE``)
and the Gaussian mixture (``models.gmm.GaussianMixture``):

    log_prob_is_exact   class-level bool: True where ``log_prob`` is the exact log P(x) (the
                        GMM), False where it is an estimate (the VAE: importance-sampled)
    likelihood          "bernoulli" or "gaussian": what the data must be (binarised or
                        dequantised, ``Dataset.model_input``) and how bits/dim are counted
    log_prob(x, ...)    x: (N, C, H, W) -> (N,) log P(x) per example, nats, every constant
                        kept.  An estimating model takes its estimator's options as keywords
                        (the VAE: ``k``, ``batch_size``, ``generator``); an exact one needs only x.
    sample(n, generator=None)
                        n images from the model, (n, C, H, W) float: the GMM's draws of x, the
                        VAE's decoded means E[x|z] of prior draws z ~ N(0, I)

``LatentVariableModel`` is what the objectives (``objectives.elbo``, ``objectives.iwae``) and
the log p(x) estimator (``eval.likelihood``) call: a ``prior`` p(z) (``models.priors``), an
encoder (``encode``) whose outputs ``q(m, σ)`` turns into the posterior q(z|x)
(``models.posteriors``: ``rsample`` draws codes with their log q), a decoder p(x|z), the
one-sample ELBO terms as ``forward``, and ``fixed_prior`` for evaluation loops.  The VAE
is one; so is any model a test builds with a known answer.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import ClassVar, Protocol, runtime_checkable

import torch
from torch.distributions import Distribution


@runtime_checkable
class DensityModel(Protocol):
    """A model of P(x) on images; see the module docstring for units and shapes."""

    log_prob_is_exact: ClassVar[bool]

    @property
    def likelihood(self) -> str: ...

    def log_prob(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor: ...

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...


@runtime_checkable
class LatentVariableModel(Protocol):
    """P(x) = ∫ P(z) P(x|z) dz with a prior P(z) (N(0, I), or the VampPrior) and an encoder q(z|x).

    Shapes per method.

    ``validate=False`` builds distributions without argument checks: for hot loops whose
    inputs are known good (training, importance sampling); every other caller keeps the
    checks, so that data outside the likelihood's support raises instead of scoring nonsense.
    """

    latent_dim: int
    is_variational: bool     # False for a plain autoencoder: no q(z|x) noise, no P(x)
    kl_in_closed_form: bool  # KL(q ‖ p) in closed form per dimension (N(0, I) and a diagonal Gaussian q)
    kl_size: int             # the length of forward's KL per example: latent_dim, or 1 (a one-sample estimate)
    prior: torch.nn.Module   # p(z): log_prob, sample, kl, fixed (``models.priors``)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, C, H, W) -> m: (B, L), log_var: (B, L) (None for a plain autoencoder)."""
        ...

    def decode(self, z: torch.Tensor, validate: bool = True) -> Distribution:
        """z: (B, L) -> p(x|z), batch shape (B,), event shape (C, H, W)."""
        ...

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, validate: bool = True):
        """x: (B, C, H, W) -> ``objectives.elbo.ElboTerms``: recon (B,), kl (B, L) or None, nats."""
        ...

    def q(self, m: torch.Tensor, log_var: torch.Tensor):
        """From ``encode``'s (m, log_var): q(z|x), whose ``rsample(samples, generator)`` gives z ~ q(z|x)
        (B, L) or (samples, B, L) and log q(z|x) (B,) or (samples, B)."""
        ...

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) for several codes per example, unchecked: z (S, B, L), x (B, C, H, W) -> (S, B), nats."""
        ...

    def fixed_prior(self) -> AbstractContextManager[None]:
        """A block in which the parameters stay fixed (evaluation under ``torch.no_grad``): ``prior.log_prob``
        may reuse work that depends on them alone (the VampPrior's encoding of its pseudo-inputs)."""
        ...
