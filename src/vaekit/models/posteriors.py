"""Posteriors q(z|x): what the encoder's outputs mean as a distribution over codes.

A posterior *family* is a small ``nn.Module`` (it may own parameters: the two-layer model's
q(z2|z1), the IAF's flow steps).  Called on the encoder's outputs (m, σ), (B, L) each
(σ a log-variance, ``models.gaussian``), it returns one distribution per example, with

    rsample(samples=None, generator=None) -> (z, log q(z|x))     z (B, L') or (S, B, L'), log q (B,) or (S, B)

drawn by reparameterisation, so gradients reach m, σ and the family's parameters.  L' is the
model's code size (``VAE.latent_dim``).  Families:

    DiagonalGaussian   q(z|x) = N(m, diag exp(σ)), the lecture's c = m + exp(σ/2)·e
    TwoLayerGaussian   q(z1, z2|x) = q(z1|x) q(z2|z1) (Burda et al. 2016), z = [z1, z2]
    IAF                z_0 ~ N(m, diag exp(σ)), then K autoregressive steps
                       z_t = μ_t(z_{t−1}) + s_t(z_{t−1})⊙z_{t−1} (Kingma et al. 2016), with
                       log q(z_K|x) = log N(z_0; m, exp(σ)) − Σ_t Σ_l log s_tl
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .gaussian import log_normal, reparameterize_with_log_q
from .networks import GaussianLayer

POSTERIORS = ("diag", "iaf")
LOG_2 = 0.6931471805599453


class GaussianPosterior:
    """q(z|x) = N(m, diag exp(σ)) for a batch: m, log_var (B, L).  The KL to N(0, I) has a closed form."""

    def __init__(self, m: torch.Tensor, log_var: torch.Tensor):
        self.m, self.log_var = m, log_var

    def rsample(self, samples: int | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z = m + exp(σ/2)·e and log q(z|x): (B, L), (B,); or (S, B, L), (S, B) with ``samples`` = S."""
        return reparameterize_with_log_q(self.m, self.log_var, generator, samples)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z|x): z (..., B, L) -> (..., B), nats."""
        return log_normal(z, self.m, self.log_var)


class DiagonalGaussian(nn.Module):
    """The family q(z|x) = N(m, diag exp(σ)): the encoder's outputs are the mean and log-variance."""

    gaussian = True   # its q is a ``GaussianPosterior``: closed-form KL to N(0, I)

    def forward(self, m: torch.Tensor, log_var: torch.Tensor) -> GaussianPosterior:
        return GaussianPosterior(m, log_var)

    def summary(self, m: torch.Tensor, log_var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What ``VAE.encode`` shows of q: (m, σ) themselves."""
        return m, log_var


class _TwoLayerPosterior:
    """q(z1|x) q(z2|z1) for a batch: (m1, σ1) (B, L1) and the layer giving (m2, σ2) from z1."""

    def __init__(self, m1: torch.Tensor, log_var1: torch.Tensor, layer: nn.Module):
        self.m1, self.log_var1, self.layer = m1, log_var1, layer

    def rsample(self, samples: int | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z = [z1, z2], z1 ~ q(z1|x), z2 ~ q(z2|z1), and log q(z1, z2|x): (B, L1 + L2), (B,); or with S first."""
        z1, log_q1 = reparameterize_with_log_q(self.m1, self.log_var1, generator, samples)
        m2, log_var2 = self.layer(z1).chunk(2, dim=-1)
        z2, log_q2 = reparameterize_with_log_q(m2, log_var2, generator)
        return torch.cat([z1, z2], -1), log_q1 + log_q2


class TwoLayerGaussian(nn.Module):
    """The family q(z1, z2|x) = q(z1|x) q(z2|z1) of the IWAE paper's hierarchy (Burda et al. 2016).

    The encoder gives (m1, σ1) of q(z1|x); ``encoder2`` (a ``GaussianLayer`` L1 -> hidden2 -> 2·L2)
    gives (m2, σ2) of q(z2|z1) for each drawn z1.  q(z2|x) itself is not Gaussian, so the KL has
    no closed form.  Called on (m, σ) of size L1 + L2 (``VAE.encode``'s), it reads the first L1.
    """

    gaussian = False

    def __init__(self, latent1: int, latent2: int, hidden2: tuple[int, ...], linear: bool):
        super().__init__()
        self.latent1 = latent1
        self.encoder2 = GaussianLayer(latent1, latent2, hidden2, linear)                     # q(z2|z1)

    def forward(self, m: torch.Tensor, log_var: torch.Tensor) -> _TwoLayerPosterior:
        return _TwoLayerPosterior(m[..., :self.latent1], log_var[..., :self.latent1], self.encoder2)

    def summary(self, m1: torch.Tensor, log_var1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m, σ) = [m1, m2], [σ1, σ2] along the mean path: (m2, σ2) of q(z2|z1 = m1).  (B, L1 + L2) each."""
        m2, log_var2 = self.encoder2(m1).chunk(2, dim=-1)
        return torch.cat([m1, m2], -1), torch.cat([log_var1, log_var2], -1)


class MaskedLinear(nn.Linear):
    """y = x (W ⊙ M)ᵀ + b with a fixed 0/1 mask M (out, in): the connections MADE allows."""

    def __init__(self, mask: torch.Tensor, bias: bool = True):
        super().__init__(mask.shape[1], mask.shape[0], bias=bias)
        self.register_buffer("mask", mask.to(self.weight.dtype), persistent=False)   # rebuilt, never saved

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class AutoregressiveStep(nn.Module):
    """One IAF step: z (..., L), context h (..., C) -> z' = μ(z) + s(z)⊙z and Σ_l log s_l (...).

    μ and s come from a MADE (Germain et al. 2015) with one hidden layer: output l sees only
    the inputs before l in the step's ``order`` (and all of h), so the Jacobian ∂z'/∂z is
    triangular with diagonal s and log |det| = Σ_l log s_l.  s = 2·sigmoid(a) lies in (0, 2),
    bounded (Kingma et al.'s gated update keeps the step's scale bounded for the same reason).
    The output layer starts at zero: μ = 0, s = 1, so a fresh step is the identity.
    """

    def __init__(self, latent: int, context: int, hidden: int, reverse: bool):
        super().__init__()
        degree_in = torch.arange(1, latent + 1)
        if reverse:
            degree_in = degree_in.flip(0)
        degree_hidden = (torch.arange(hidden) % (latent - 1) + 1) if latent > 1 else torch.zeros(hidden, dtype=torch.long)
        self.inputs = MaskedLinear((degree_hidden[:, None] >= degree_in[None, :]).long())      # z -> hidden
        self.context = nn.Linear(context, hidden, bias=False)                                  # h -> hidden
        out_mask = (degree_in[:, None] > degree_hidden[None, :]).long()                        # (L, hidden)
        self.shift = MaskedLinear(out_mask)
        self.scale = MaskedLinear(out_mask)
        for layer in (self.shift, self.scale):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (..., B, L) and h (B, C) or (..., B, C): h's product is made once per example, not per sample."""
        a = F.relu(self.inputs(z) + self.context(h))
        raw = self.scale(a)
        z = self.shift(a) + 2 * torch.sigmoid(raw) * z
        return z, (LOG_2 + F.logsigmoid(raw)).sum(-1)


class _IAFPosterior:
    """z_0 ~ N(m, exp(σ)) then the flow's steps, with context h = [m, σ]."""

    def __init__(self, m: torch.Tensor, log_var: torch.Tensor, steps: nn.ModuleList):
        self.m, self.log_var, self.steps = m, log_var, steps

    def rsample(self, samples: int | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z_K and log q(z_K|x) = log N(z_0; m, exp(σ)) − Σ_t log |det ∂z_t/∂z_{t−1}|: (B, L), (B,); or S first."""
        z, log_q = reparameterize_with_log_q(self.m, self.log_var, generator, samples)
        h = torch.cat([self.m, self.log_var], -1)   # (B, 2L): one per example, broadcast over the S samples
        for step in self.steps:
            z, log_det = step(z, h)
            log_q = log_q - log_det
        return z, log_q


class IAF(nn.Module):
    """Inverse autoregressive flow posterior (Kingma et al. 2016, "Improved variational inference
    with inverse autoregressive flow"): a diagonal Gaussian followed by ``steps`` autoregressive
    steps, alternating their order, each a MADE of ``4·L`` hidden units conditioned on h = [m, σ]
    (the encoder's own outputs serve as the paper's context h).  log q(z|x) comes through the
    flow's log-determinant; it has no closed-form density at an arbitrary z, so the KL is a
    one-sample estimate.  With every step at its zero start it is exactly ``DiagonalGaussian``.
    """

    gaussian = False

    def __init__(self, latent: int, steps: int):
        super().__init__()
        self.steps = nn.ModuleList(AutoregressiveStep(latent, 2 * latent, 4 * latent, reverse=bool(t % 2))
                                   for t in range(steps))

    def forward(self, m: torch.Tensor, log_var: torch.Tensor) -> _IAFPosterior:
        return _IAFPosterior(m, log_var, self.steps)

    def summary(self, m: torch.Tensor, log_var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What ``VAE.encode`` shows: the base Gaussian's (m, σ) (the flow's input, not q's own moments)."""
        return m, log_var
