"""Models with known answers, and a registry of example configs for generic checks."""

from __future__ import annotations

import math

import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from vaekit.models import VAE, ModelConfig
from vaekit.models.posteriors import DiagonalGaussian
from vaekit.models.priors import StandardNormal

# Every architecture x kind x likelihood the toolkit builds, small enough for CPU tests.
EXAMPLE_CONFIGS = [
    ModelConfig(kind=kind, arch=arch, image_shape=shape, hidden=(32,), latent=4, likelihood=lik,
                conv_channels=(4, 8))
    for kind in ("vae", "ae")
    for arch, shape in (("mlp", (1, 8, 8)), ("conv", (1, 8, 8)), ("conv", (3, 12, 8)))
    for lik in ("bernoulli", "gaussian")
] + [
    # the linear VAE/AE: no hidden layers (``hidden`` stays at its default), Gaussian p(x|z) only
    ModelConfig(kind=kind, arch="linear", image_shape=(1, 8, 8), latent=4, likelihood="gaussian")
    for kind in ("vae", "ae")
]


class LinearGaussian(torch.nn.Module):
    """z ~ N(0, I_L), x|z ~ N(W z + b, s² I_D), with W = Q·diag(d) (orthogonal columns).

    The exact log p(x) is that of N(b, W Wᵀ + s² I), and the exact posterior p(z|x) is the
    diagonal Gaussian N(Σ Wᵀ(x - b)/s², Σ), Σ = diag(1 / (1 + d²/s²)), so an encoder of our
    (diagonal) family can be exact.  ``q_shift``/``q_log_scale`` make a deliberately poor q.
    Images have shape (1, 1, D).
    """

    def __init__(self, dim=6, latent=3, s=0.5, seed=0, q_shift=0.0, q_log_scale=0.0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(dim, latent, generator=g, dtype=torch.float64))
        self.d = torch.linspace(0.5, 2.0, latent, dtype=torch.float64)
        self.W = q * self.d
        self.b = torch.randn(dim, generator=g, dtype=torch.float64) * 0.3
        self.s = s
        self.latent_dim = latent
        self.likelihood = "gaussian"
        self.is_variational = True
        self.q_shift, self.q_log_scale = q_shift, q_log_scale
        self.posterior, self.prior = DiagonalGaussian(), StandardNormal(latent)   # the VAE's own parts

    def encode(self, x, y=None):
        x = x.reshape(len(x), -1)
        var = 1.0 / (1.0 + self.d ** 2 / self.s ** 2)                          # (L,)
        m = (x - self.b) @ self.W * var / self.s ** 2 + self.q_shift           # (B, L)
        log_var = torch.log(var).expand_as(m) + 2 * self.q_log_scale
        return m, log_var

    def decode(self, z, validate=True, y=None):
        """Always checked (these tests are not about speed); ``validate`` as ``VAE.decode`` takes it."""
        mean = (z @ self.W.T + self.b).view(-1, 1, 1, self.W.shape[0])
        return Independent(Normal(mean, torch.full_like(mean, self.s)), 3)

    def log_likelihood(self, z, x, y=None):
        """z (S, B, L), x (B, 1, 1, D) -> log p(x|z) (S, B)."""
        s, b, latent = z.shape
        return self.decode(z.reshape(s * b, latent)).log_prob(x.repeat(s, 1, 1, 1)).view(s, b)

    # The VAE's own methods behind the same interface (``models.protocol``): ``forward`` (the
    # ELBO terms) and ``log_prob`` (importance sampling) are scored by the code that runs, not a copy.
    log_prob_is_exact = False
    forward, log_prob, q, fixed_prior = VAE.forward, VAE.log_prob, VAE.q, VAE.fixed_prior
    kl_in_closed_form, kl_size, prior_is_standard = VAE.kl_in_closed_form, VAE.kl_size, VAE.prior_is_standard

    def exact_log_px(self, x):
        cov = self.W @ self.W.T + self.s ** 2 * torch.eye(self.W.shape[0], dtype=torch.float64)
        return MultivariateNormal(self.b, cov).log_prob(x.reshape(len(x), -1))

    def sample_x(self, n, seed=1):
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.latent_dim, generator=g, dtype=torch.float64)
        x = z @ self.W.T + self.b + self.s * torch.randn(n, self.W.shape[0], generator=g, dtype=torch.float64)
        return x.view(n, 1, 1, -1)


def log_normal_const(dim):
    return -0.5 * dim * math.log(2 * math.pi)
