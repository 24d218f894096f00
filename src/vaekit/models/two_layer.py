"""The VAE with two stochastic layers of the IWAE paper (Burda et al. 2016, section 5).

    inference   q(z1, z2 | x) = q(z1|x) q(z2|z1)         x -> 200 -> 200 -> z1 (100) -> 100 -> 100 -> z2 (50)
    generation  p(x, z1, z2)  = p(z2) p(z1|z2) p(x|z1)   z2 ~ N(0, I) -> 100 -> 100 -> z1 -> 200 -> 200 -> x

Every conditional is a diagonal Gaussian N(m, exp(σ)) (σ a log-variance, as in ``vae``) except
p(x|z1), which is the one-layer VAE's decoder.  The code z is the two layers side by side,
z = [z1, z2], (..., L1 + L2), so the objectives and the log p(x) estimate handle it as any
other ``models.protocol.LatentVariableModel``:

    log w = log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)

The KL term has no closed form: ``forward`` returns the one-sample estimate log q - log p of
the whole code, as for the VampPrior.  ``encode`` returns the means and log-variances along
the mean path, (m1, σ1) of q(z1|x) and (m2, σ2) of q(z2|z1 = m1): what reconstructions,
interpolations and the active-unit count use (q(z2|x) itself is not Gaussian).
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution

from ..errors import VaekitError
from ..objectives.elbo import reparameterize, reparameterize_with_log_q
from ..validate import positive_int
from .config import ModelConfig
from .networks import GaussianLayer
from .vae import VAE, log_normal, log_standard_normal


class TwoLayerVAE(VAE):
    """A VAE (``ModelConfig.stochastic_layers`` = 2) whose prior over z1 is itself a latent-variable model.

    The one-layer parts are ``VAE``'s: ``encoder`` (x -> [m1, σ1]) and ``decoder`` (z1 -> p(x|z1)),
    sized by ``hidden`` and ``latent`` = L1.  Added: ``encoder2``, q(z2|z1) (z1 -> [m2, σ2]), and
    ``prior1``, p(z1|z2) (z2 -> [m, σ] of z1), MLPs through ``hidden2`` (and back), L2 = ``latent2``.
    With arch "linear" both are linear maps with a learned log-variance vector, and the model is
    linear-Gaussian: ``exact_log_prob`` gives its log p(x).
    """

    def __init__(self, config: ModelConfig):
        if config.stochastic_layers != 2:
            raise VaekitError(f"TwoLayerVAE needs stochastic_layers 2; got {config.stochastic_layers} "
                              "(build models with models.build_model)")
        super().__init__(config)
        l1, l2, linear = config.latent, config.latent2, config.arch == "linear"
        self.encoder2 = GaussianLayer(l1, l2, config.hidden2, linear)                        # q(z2|z1)
        self.prior1 = GaussianLayer(l2, l1, tuple(reversed(config.hidden2)), linear)         # p(z1|z2)

    @property
    def latent_dim(self) -> int:
        """L1 + L2: z is [z1, z2]."""
        return self.config.latent + self.config.latent2

    @property
    def prior_is_standard(self) -> bool:
        return False   # p(z1, z2) = p(z2) p(z1|z2): no closed-form KL per dimension

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (..., L1 + L2) -> z1 (..., L1), z2 (..., L2)."""
        if z.shape[-1] != self.latent_dim:
            raise VaekitError(f"a code of this two-layer model has {self.config.latent} + {self.config.latent2} = "
                              f"{self.latent_dim} entries, [z1, z2]; got {z.shape[-1]}")
        return z[..., :self.config.latent], z[..., self.config.latent:]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) -> m = [m1, m2], log_var = [σ1, σ2], (B, L1 + L2) each, along the mean path z1 = m1."""
        m1, log_var1 = super().encode(x)
        m2, log_var2 = self.encoder2(m1).chunk(2, dim=-1)
        return torch.cat([m1, m2], -1), torch.cat([log_var1, log_var2], -1)

    def sample_posterior(self, m: torch.Tensor, log_var: torch.Tensor, samples: int | None = None,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z = [z1, z2] ~ q(z1|x) q(z2|z1) and log q(z1, z2|x), from ``encode``'s (m, log_var) (B, L1 + L2).

        Only the first layer's (m1, σ1) is read; z2's mean and variance come from each drawn z1.
        Returns z (B, L1 + L2) and log q (B,), or (samples, B, ...) with ``samples``; nats.
        """
        m1, log_var1 = self.split(m)[0], self.split(log_var)[0]
        z1, log_q1 = reparameterize_with_log_q(m1, log_var1, generator, samples)
        m2, log_var2 = self.encoder2(z1).chunk(2, dim=-1)
        z2, log_q2 = reparameterize_with_log_q(m2, log_var2, generator)
        return torch.cat([z1, z2], -1), log_q1 + log_q2

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z1, z2) = log N(z2; 0, I) + log p(z1|z2): z (..., L1 + L2) -> (...), nats."""
        z1, z2 = self.split(z)
        m1, log_var1 = self.prior1(z2).chunk(2, dim=-1)
        return log_standard_normal(z2) + log_normal(z1, m1, log_var1)

    def decode(self, z: torch.Tensor, validate: bool = True) -> Distribution:
        """z = [z1, z2] (B, L1 + L2) -> p(x|z1) (z2 reaches x only through z1)."""
        return self.observe(self.split(z)[0], validate)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z1) for several codes per example: z (S, B, L1 + L2), x (B, C, H, W) -> (S, B), nats."""
        return super().log_likelihood(self.split(z)[0], x)

    def linear_marginal(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """p(x) of the linear two-layer model, float64: (loc (D,), F (D, L2 + L1), s² (D,)).

        z2 ~ N(0, I), z1 = C z2 + e + D^½ η, x = W z1 + b + s ε (η, ε ~ N(0, I)), so
        x ~ N(W e + b, W C Cᵀ Wᵀ + W D Wᵀ + s² I): loc = W e + b and F = [W C, W D^½].
        """
        b, w, noise_var = super().linear_marginal()                                  # b, W (D, L1), s²
        c, e = self.prior1.mean.weight.double(), self.prior1.mean.bias.double()       # (L1, L2), (L1,)
        d_half = torch.exp(0.5 * self.prior1.log_var.double())                         # D^½, (L1,)
        return w @ e + b, torch.cat([w @ c, w * d_half], 1), noise_var

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n draws z2 ~ N(0, I), z1 ~ p(z1|z2): the mean images E[x|z1], (n, C, H, W)."""
        positive_int("n", n)
        device = next(self.parameters()).device
        z2 = torch.randn(n, self.config.latent2, generator=generator, device=device)
        m1, log_var1 = self.prior1(z2).chunk(2, dim=-1)
        z1 = reparameterize(m1, log_var1, generator)
        return self.observe(z1).mean
