"""The lecture's autoencoder and variational autoencoder.

Notation (lecture -> code), with σ the *log-variance* of the code noise:

    m  = the encoder's code                      -> ``m``        (B, latent)
    σ  = log of the noise variance, exp(σ) > 0    -> ``log_var``  (B, latent)
    e  ~ N(0, I)                                  -> ``e``
    c  = m + exp(σ/2)·e, the noisy code           -> ``z``

The lecture writes c = m + exp(σ)·e while also calling exp(σ) the variance; the noise
scale must be the standard deviation exp(σ/2) for both statements to hold, so that is
what we use (``objectives.elbo.reparameterize``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, Normal

from .config import ModelConfig
from .networks import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder


class AutoEncoder(nn.Module):
    """A plain autoencoder (``kind="ae"``: deterministic code) or a VAE (``kind="vae"``).

    Both decode to a distribution p(x|z), so reconstruction errors are log-likelihoods in
    nats for either.  ``encode`` returns (m, log_var); log_var is None for the plain AE.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        enc_out = 2 * config.latent if config.kind == "vae" else config.latent
        # Gaussian p(x|z): the decoder emits a mean and a log-variance per pixel.
        dec_shape = (c * (2 if config.likelihood == "gaussian" else 1), h, w)
        if config.arch == "mlp":
            self.encoder = MLPEncoder(config.image_shape, config.hidden, enc_out)
            self.decoder = MLPDecoder(config.latent, config.hidden, dec_shape)
        else:
            self.encoder = ConvEncoder(config.image_shape, config.hidden, enc_out, config.conv_channels)
            self.decoder = ConvDecoder(config.latent, config.hidden, dec_shape, config.conv_channels)

    @property
    def latent_dim(self) -> int:
        return self.config.latent

    @property
    def likelihood(self) -> str:
        return self.config.likelihood

    @property
    def is_variational(self) -> bool:
        return self.config.kind == "vae"

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, C, H, W) float in [0, 1] -> m: (B, latent), log_var: (B, latent) or None."""
        out = self.encoder(x)
        if not self.is_variational:
            return out, None
        m, log_var = out.chunk(2, dim=-1)
        return m, log_var

    def decode(self, z: torch.Tensor) -> Distribution:
        """z: (B, latent) -> p(x|z) with batch shape (B,) and event shape (C, H, W).

        ``log_prob(x)`` is log p(x|z) per example in nats (summed over pixels, every
        constant kept); ``mean`` is the image.
        """
        out = self.decoder(z)
        if self.config.likelihood == "bernoulli":
            base = Bernoulli(logits=out, validate_args=False)
        else:
            mean_logit, log_var = out.chunk(2, dim=1)
            base = Normal(torch.sigmoid(mean_logit), torch.exp(0.5 * log_var), validate_args=False)
        return Independent(base, 3, validate_args=False)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats for several codes per example: z (S, B, L), x (B, C, H, W) -> (S, B).

        Equal to ``decode(z[s]).log_prob(x)`` for each s, without S copies of x.  For the
        Bernoulli MLP decoder, whose last layer is linear (logits l = W h + b), it uses
        Σ_d x_d·l_d = h·(Wᵀx) + b·x, so only softplus(l) is computed per pixel:
        log p(x|z) = Σ_d [x_d·l_d - softplus(l_d)].
        """
        s, b, latent = z.shape
        if self.config.likelihood == "bernoulli" and self.config.arch == "mlp":
            *body, last = self.decoder.net
            h = nn.Sequential(*body)(z)                                    # (S, B, H)
            xf = x.flatten(1)                                              # (B, D)
            x_dot_logits = (h * (xf @ last.weight)).sum(-1) + xf @ last.bias
            return x_dot_logits - F.softplus(F.linear(h, last.weight, last.bias)).sum(-1)
        xs = x.expand(s, *x.shape).reshape(s * b, *x.shape[1:])
        return self.decode(z.reshape(s * b, latent)).log_prob(xs).view(s, b)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n prior draws z ~ N(0, I); returns the mean images, (n, C, H, W)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return self.decode(z).mean

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The mean image decoded from the code m of x: (B, C, H, W) -> (B, C, H, W)."""
        m, _ = self.encode(x)
        return self.decode(m).mean

    @torch.no_grad()
    def interpolate(self, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10) -> torch.Tensor:
        """Decodes of the codes on the line from m(x_a) to m(x_b): (B, C, H, W) twice -> (B, steps, C, H, W).

        The lecture's full moon / half moon: a VAE decodes codes between two images to
        something in between; a plain AE need not.  Step 0 is the reconstruction of x_a,
        the last step that of x_b.
        """
        if steps < 2:
            raise ValueError(f"steps must be at least 2 (the two end points), got {steps}")
        a, b = self.encode(x_a)[0], self.encode(x_b)[0]
        t = torch.linspace(0, 1, steps, device=a.device).view(1, steps, 1)
        path = a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t                    # (B, steps, L)
        return self.decode(path.flatten(0, 1)).mean.view(len(a), steps, *x_a.shape[1:])


def build_model(config: ModelConfig, seed: int = 0) -> AutoEncoder:
    """A freshly initialised model; the same seed gives the same weights on every machine."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoEncoder(config)
