"""Priors p(z): the distribution the decoder's codes are drawn from.

Every prior is an ``nn.Module`` (it may own parameters) with

    log_prob(z)                      z (..., L) -> (...), nats
    sample(n, generator, device)     n codes (n, L)
    kl(q)                            KL(q(z|x) ‖ p(z)) per dimension (B, L) where a closed form
                                     exists for the posterior q (``models.posteriors``), else None
    fixed()                          a block in which the parameters do not change (evaluation):
                                     log_prob may reuse work that depends on them alone

Priors:

    StandardNormal     N(0, I); closed-form KL for a diagonal Gaussian q (the lecture's penalty)
    VampPrior          (1/K) Σ_k q(z|u_k), the encoder's posteriors at K learned pseudo-inputs
                       (Tomczak & Welling 2018)
    MixturePrior       Σ_k π_k N(μ_k, diag exp(σ_k)), K learned components
    HierarchicalPrior  p(z2) p(z1|z2) of the IWAE paper's two stochastic layers, z = [z1, z2],
                       composed of a StandardNormal p(z2) and a Gaussian layer p(z1|z2)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .gaussian import diagonal_components, kl_standard_normal, log_mixture, log_normal, log_standard_normal, reparameterize
from .networks import GaussianLayer
from .posteriors import GaussianPosterior

PRIORS = ("standard", "vamp", "mog")


class Prior(nn.Module):
    """What every prior shares: no closed-form KL and nothing to fix, unless a subclass says so."""

    def kl(self, q) -> torch.Tensor | None:
        """KL(q ‖ p) per dimension, (B, L), where a closed form exists; None here."""
        return None

    def offers_kl(self, family: nn.Module) -> bool:
        """Whether ``kl`` has a closed form for the posteriors of this family (``models.posteriors``)."""
        return False

    def fixed(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class StandardNormal(Prior):
    """p(z) = N(0, I_L)."""

    def __init__(self, latent: int):
        super().__init__()
        self.latent = latent

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return log_standard_normal(z)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        return torch.randn(n, self.latent, generator=generator, device=device)

    def kl(self, q) -> torch.Tensor | None:
        """½(exp(σ) − (1 + σ) + m²) per dimension for q = N(m, exp(σ)); None for any other q."""
        return kl_standard_normal(q.m, q.log_var) if isinstance(q, GaussianPosterior) else None

    def offers_kl(self, family: nn.Module) -> bool:
        return getattr(family, "gaussian", False)

    def linear_moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """z ~ N(mean, F Fᵀ), float64: (mean (L,), F (L, L)) = (0, I)."""
        return torch.zeros(self.latent, dtype=torch.float64), torch.eye(self.latent, dtype=torch.float64)


class VampPrior(Prior):
    """p(z) = (1/K) Σ_k q(z|u_k), u_k = sigmoid(a_k) learned pseudo-inputs (K, C, H, W) in (0, 1).

    ``encode`` is the model's encoder, images -> (m, σ) (K, L) each: the prior is made of the
    model's own diagonal-Gaussian posteriors.  Each component's log N(z; m_k, v_k) is
    const_k + [z, z²]·w_k (``gaussian.diagonal_components``): one matrix product for all K.
    """

    def __init__(self, pseudo_inputs: int, image_shape: tuple[int, int, int], latent: int,
                 encode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]):
        super().__init__()
        self.latent, self.k = latent, pseudo_inputs
        # a_k ~ N(0, 0.1²): grey, slightly varied images
        self.pseudo_logits = nn.Parameter(0.1 * torch.randn(pseudo_inputs, *image_shape))
        self._encode = encode
        self._fixed_components: tuple[torch.Tensor, torch.Tensor] | None = None   # set inside fixed()

    def pseudo_inputs(self) -> torch.Tensor:
        """u_k = sigmoid(a_k): (K, C, H, W) in (0, 1)."""
        return torch.sigmoid(self.pseudo_logits)

    def components(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The K Gaussians q(z|u_k) as (const (K,), w (K, 2L)); inside ``fixed`` without gradients, the
        table computed on entering the block."""
        if self._fixed_components is not None and not torch.is_grad_enabled():
            return self._fixed_components
        return diagonal_components(*self._encode(self.pseudo_inputs()))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log (1/K) Σ_k q(z|u_k) by log-sum-exp over k: z (..., L) -> (...)."""
        return log_mixture(z, *self.components()) - math.log(self.k)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """k uniform over the pseudo-inputs, then z ~ q(z|u_k): (n, L)."""
        e = torch.randn(n, self.latent, generator=generator, device=device)
        m, log_var = self._encode(self.pseudo_inputs())
        k = torch.randint(0, self.k, (n,), generator=generator, device=device)
        return m[k] + torch.exp(0.5 * log_var[k]) * e

    @contextlib.contextmanager
    def fixed(self) -> Iterator[None]:
        """Encode the pseudo-inputs once for the block (not once per batch of codes).  Re-entrant;
        with gradients on, log p(z) is computed afresh (training may change the parameters)."""
        if self._fixed_components is not None:
            yield
            return
        with torch.no_grad():
            self._fixed_components = self.components()
        try:
            yield
        finally:
            self._fixed_components = None


class MixturePrior(Prior):
    """p(z) = Σ_k π_k N(z; μ_k, diag exp(σ_k)), π = softmax(logits): K learned diagonal Gaussians.

    Starts with equal weights, unit variances and means drawn from N(0, I).  With K = 1, μ = 0
    and σ = 0 it is the standard normal prior.
    """

    def __init__(self, components: int, latent: int):
        super().__init__()
        self.latent = latent
        self.logits = nn.Parameter(torch.zeros(components))
        self.means = nn.Parameter(torch.randn(components, latent))
        self.log_vars = nn.Parameter(torch.zeros(components, latent))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        const, weights = diagonal_components(self.means, self.log_vars)
        return log_mixture(z, const + F.log_softmax(self.logits, 0), weights)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """k ~ Categorical(π), then z ~ N(μ_k, exp(σ_k)): (n, L)."""
        e = torch.randn(n, self.latent, generator=generator, device=device)
        k = torch.multinomial(F.softmax(self.logits, 0), n, replacement=True, generator=generator)
        return self.means[k] + torch.exp(0.5 * self.log_vars[k]) * e


class HierarchicalPrior(Prior):
    """p(z1, z2) = p(z2) p(z1|z2), z = [z1, z2] (..., L1 + L2): p(z2) = N(0, I) (``top``) and
    p(z1|z2) = N(m1(z2), diag exp(σ1(z2))) from a ``GaussianLayer`` L2 -> hidden2 -> 2·L1
    (``conditional``; linear with a learned σ1 vector for arch "linear", so the model stays
    linear-Gaussian)."""

    def __init__(self, latent1: int, latent2: int, hidden2: tuple[int, ...], linear: bool):
        super().__init__()
        self.latent1 = latent1
        self.top = StandardNormal(latent2)
        self.conditional = GaussianLayer(latent2, latent1, tuple(reversed(hidden2)), linear)   # p(z1|z2)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z2; 0, I) + log p(z1|z2): z (..., L1 + L2) -> (...)."""
        z1, z2 = z[..., :self.latent1], z[..., self.latent1:]
        m1, log_var1 = self.conditional(z2).chunk(2, dim=-1)
        return self.top.log_prob(z2) + log_normal(z1, m1, log_var1)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """z2 ~ N(0, I), then z1 ~ p(z1|z2): (n, L1 + L2)."""
        z2 = self.top.sample(n, generator, device)
        m1, log_var1 = self.conditional(z2).chunk(2, dim=-1)
        return torch.cat([reparameterize(m1, log_var1, generator), z2], -1)

    def linear_moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """z1's marginal N(mean, F Fᵀ) for the linear model, float64: z1 = C z2 + e + D^½ η, so
        mean = e and F = [C, D^½] (L1, L2 + L1)."""
        c, e = self.conditional.mean.weight.double(), self.conditional.mean.bias.double()   # (L1, L2), (L1,)
        d_half = torch.exp(0.5 * self.conditional.log_var.double())                          # (L1,)
        return e, torch.cat([c, torch.diag(d_half)], 1)
