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

import contextlib
import math
from collections.abc import Iterator
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, LowRankMultivariateNormal, Normal

from ..errors import VaekitError
from ..objectives.elbo import LOG_2PI, ElboTerms, kl_standard_normal, reparameterize, reparameterize_with_log_q
from ..validate import integer, positive_int
from .config import ModelConfig
from .logspace import logsumexp, softplus_sum
from .networks import ConvDecoder, ConvEncoder, LinearDecoder, LinearEncoder, MLPDecoder, MLPEncoder


def log_normal(z: torch.Tensor, m: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Σ_l log N(z_l; m_l, exp(σ_l)) = −½ Σ_l [(z_l − m_l)² exp(−σ_l) + σ_l + log 2π], σ a log-variance:
    (..., L) -> (...), nats (unchecked: hot loops; ``Normal.log_prob`` computes the same in more passes)."""
    d = z - m
    return -0.5 * (d * d * torch.exp(-log_var) + log_var + LOG_2PI).sum(-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """Σ_l log N(z_l; 0, 1): (..., L) -> (...), nats."""
    return Normal(0.0, 1.0, validate_args=False).log_prob(z).sum(-1)


class VAE(nn.Module):
    """A VAE (``kind="vae"``) or the lecture's plain autoencoder (``kind="ae"``: deterministic code).

    Both decode to a distribution p(x|z), so reconstruction errors are log-likelihoods in
    nats for either.  ``encode`` returns (m, log_var); log_var is None for the plain AE.
    ``forward(x)`` (what ``model(x)`` runs) returns the one-sample ELBO terms per example,
    the quantity training maximises.  It is a ``DensityModel`` and a ``LatentVariableModel``
    (``models.protocol``): ``log_prob`` estimates log p(x) by importance sampling.

    ``arch="linear"`` is the linear VAE of Lucas et al. (2019, "Don't blame the ELBO"):
    q(z|x) = N(A x + c, diag exp(σ)) with σ one learned vector, p(x|z) = N(W z + b, s² I)
    with one learned s².  Its optimum is probabilistic PCA, and its log p(x) is known in
    closed form (``exact_log_prob``), so the ELBO, the importance-sampled estimate and the
    exact value can be compared.  Of kind "ae" it is a plain linear autoencoder (with the
    Gaussian reconstruction loss, its optimum spans the principal subspace, as PCA's;
    Baldi & Hornik 1989); that has no P(x), exact or not.
    """

    log_prob_is_exact: ClassVar[bool] = False   # log_prob is an importance-sampled estimate

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.stochastic_layers != 1 and type(self) is VAE:
            raise VaekitError(f"VAE has one stochastic layer; this config has {config.stochastic_layers} "
                              "(models.build_model builds the TwoLayerVAE it describes)")
        self.config = config
        c, h, w = config.image_shape
        enc_out = 2 * config.latent if config.kind == "vae" else config.latent
        # Gaussian p(x|z): the decoder emits a mean and a log-variance per pixel.
        dec_shape = (c * (2 if config.likelihood == "gaussian" else 1), h, w)
        if config.arch == "linear":   # one linear map each way; the noise variances are parameters
            self.encoder = LinearEncoder(config.image_shape, config.latent, variational=config.kind == "vae")
            self.decoder = LinearDecoder(config.latent, config.image_shape)
        elif config.arch == "mlp":
            self.encoder = MLPEncoder(config.image_shape, config.hidden, enc_out)
            self.decoder = MLPDecoder(config.latent, config.hidden, dec_shape)
        else:
            self.encoder = ConvEncoder(config.image_shape, config.hidden, enc_out, config.conv_channels)
            self.decoder = ConvDecoder(config.latent, config.hidden, dec_shape, config.conv_channels)
        if config.prior == "vamp":   # u_k = sigmoid(a_k), images in (0, 1); a_k ~ N(0, 0.1²): grey, slightly varied
            self.pseudo_logits = nn.Parameter(0.1 * torch.randn(config.pseudo_inputs, *config.image_shape))
        self._fixed_components: tuple[torch.Tensor, torch.Tensor] | None = None   # set inside fixed_prior

    @property
    def latent_dim(self) -> int:
        return self.config.latent

    @property
    def likelihood(self) -> str:
        """"bernoulli" (binarised data) or "gaussian" (dequantised data): the family of p(x|z)."""
        return self.config.likelihood

    @property
    def is_variational(self) -> bool:
        return self.config.kind == "vae"

    @property
    def has_exact_log_prob(self) -> bool:
        """Whether ``exact_log_prob`` is available: for the linear VAE (arch "linear", kind "vae") only."""
        return self.config.arch == "linear" and self.is_variational

    @property
    def prior_is_standard(self) -> bool:
        """Whether p(z) = N(0, I) (the KL in closed form, per dimension); False for the VampPrior."""
        return self.config.prior == "standard"

    @property
    def kl_size(self) -> int:
        """The length of ``forward``'s KL per example: latent (exact, per dimension) for the standard
        prior, 1 (a one-sample estimate of the whole KL) for the VampPrior."""
        return self.latent_dim if self.prior_is_standard else 1

    def pseudo_inputs(self) -> torch.Tensor:
        """The VampPrior's pseudo-inputs u_k = sigmoid(a_k): (K, C, H, W) in (0, 1)."""
        return torch.sigmoid(self.pseudo_logits)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) in nats: z (..., L) -> (...).

        Standard prior: Σ_l log N(z_l; 0, 1).  VampPrior: log (1/K) Σ_k q(z|u_k), the mixture of
        the encoder's posteriors at the K pseudo-inputs, by log-sum-exp over k.  Each component's
        log N(z; m_k, v_k) = -½ Σ_l [log 2π + σ_kl + m_kl²/v_kl] + z·(m_k/v_k) - ½ z²·(1/v_k)
        (v = exp(σ), ``vamp_components``): one matrix product for all K, as the diagonal GMM's
        (``gmm``), instead of a (..., K, L) tensor of differences (328 MB for a chunk of 4096
        codes, K = 500, L = 40).
        """
        if self.prior_is_standard:
            return log_standard_normal(z)
        const, weights = self.vamp_components()                                              # (K,), (K, 2L)
        zz = torch.cat([z, z * z], -1).reshape(-1, weights.shape[1])                         # (N, 2L)
        log_q = torch.addmm(const, zz, weights.T).view(*z.shape[:-1], -1)                    # (..., K)
        return logsumexp(log_q) - math.log(self.config.pseudo_inputs)

    def vamp_components(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The VampPrior's K Gaussians q(z|u_k) = N(m_k, v_k) as log N(z; m_k, v_k) = const_k + [z, z²]·w_k.

        Returns const (K,) = -½ Σ_l [log 2π + σ_kl + m_kl²/v_kl] and w (K, 2L) = [m_k/v_k, -½/v_k],
        from one pass of the encoder over the pseudo-inputs; inside ``fixed_prior``, without
        gradients, the table computed on entering the block.
        """
        if self._fixed_components is not None and not torch.is_grad_enabled():
            return self._fixed_components
        m, log_var = self.encode(self.pseudo_inputs())                                       # (K, L) each
        precision = torch.exp(-log_var)                                                      # 1/v, (K, L)
        const = -0.5 * (log_var + m * m * precision + LOG_2PI).sum(-1)                       # (K,)
        return const, torch.cat([m * precision, -0.5 * precision], -1)

    @contextlib.contextmanager
    def fixed_prior(self) -> Iterator[None]:
        """A block in which the parameters do not change (evaluation): log p(z) computed without
        gradients reuses one encoding of the VampPrior's pseudo-inputs instead of encoding all K
        again for every batch of codes (``eval.likelihood.log_px``, ``eval.elbo.elbo_sums``).
        Nothing to fix for the standard prior.  Re-entrant; with gradients on, log p(z) is
        computed afresh (training may change the parameters)."""
        if self.prior_is_standard or self.config.prior != "vamp" or self._fixed_components is not None:
            yield
            return
        with torch.no_grad():
            self._fixed_components = self.vamp_components()
        try:
            yield
        finally:
            self._fixed_components = None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, C, H, W) float in [0, 1] -> m: (B, latent), log_var: (B, latent) or None."""
        out = self.encoder(x)
        if not self.is_variational:
            return out, None
        m, log_var = out.chunk(2, dim=-1)
        return m, log_var

    def decode(self, z: torch.Tensor, validate: bool = True) -> Distribution:
        """z: (B, latent) -> p(x|z) with batch shape (B,) and event shape (C, H, W).

        ``log_prob(x)`` is log p(x|z) per example in nats (summed over pixels, every
        constant kept); ``mean`` is the image.  The distribution checks its arguments, so
        ``log_prob`` of data outside the support (a Bernoulli of 0..255 pixels) raises
        ValueError.  ``validate=False`` skips the checks: for the hot loops of training and
        importance sampling (``forward``, ``log_likelihood``), whose inputs are known good.
        """
        return self.observe(z, validate)

    def observe(self, z: torch.Tensor, validate: bool = True) -> Distribution:
        """p(x|z) from the code the decoder reads, (B, latent): ``decode`` itself here; a
        ``TwoLayerVAE`` decodes [z1, z2] by passing z1 here."""
        out = self.decoder(z)
        if self.config.arch == "linear":   # out is the mean W z + b itself; one noise scale s for every pixel
            scale = torch.exp(0.5 * self.decoder.log_var).expand_as(out)
            base = Normal(out, scale, validate_args=validate)
        elif self.config.likelihood == "bernoulli":
            base = Bernoulli(logits=out, validate_args=validate)
        else:
            mean_logit, log_var = out.chunk(2, dim=1)
            base = Normal(torch.sigmoid(mean_logit), torch.exp(0.5 * log_var), validate_args=validate)
        return Independent(base, 3, validate_args=validate)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, validate: bool = True) -> ElboTerms:
        """The one-sample ELBO terms of each example: x (B, C, H, W) in [0, 1] -> ``ElboTerms``.

        recon = log p(x|c), (B,), nats, at the noisy code c = m + exp(σ/2)·e, e ~ N(0, I)
        drawn from ``generator`` (``objectives.elbo.reparameterize``); kl = KL(q(z|x) || N(0, I))
        per latent dimension, (B, L), nats.  A plain autoencoder decodes c = m and has kl None.
        L_b ≈ recon - kl.sum(-1).  ``validate=False`` builds p(x|c) unchecked (see ``decode``);
        ``objectives.elbo.elbo_terms``, which training and evaluation call, does so.
        """
        m, log_var = self.encode(x)
        if log_var is None:
            return ElboTerms(self.decode(m, validate).log_prob(x), None)
        if self.prior_is_standard:
            z = reparameterize(m, log_var, generator)
            return ElboTerms(self.decode(z, validate).log_prob(x), kl_standard_normal(m, log_var))
        # no closed form (the VampPrior, two stochastic layers): a one-sample estimate, (B, 1)
        z, log_q = self.sample_posterior(m, log_var, generator=generator)
        return ElboTerms(self.decode(z, validate).log_prob(x), (log_q - self.log_prior(z)).unsqueeze(-1))

    def sample_posterior(self, m: torch.Tensor, log_var: torch.Tensor, samples: int | None = None,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes z ~ q(z|x) and their log q(z|x), from ``encode``'s (m, log_var), each (B, L).

        Returns z (B, L) and log q (B,), or (samples, B, L) and (samples, B) with ``samples``;
        nats.  Here q(z|x) = N(m, exp(σ)) and z = m + exp(σ/2)·e (``reparameterize_with_log_q``);
        ``TwoLayerVAE`` draws z1, then z2 given z1.
        """
        return reparameterize_with_log_q(m, log_var, generator, samples)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats for several codes per example: z (S, B, L), x (B, C, H, W) -> (S, B).

        Equal to ``decode(z[s]).log_prob(x)`` for each s, without S copies of x and without
        argument checks (the importance-sampling hot loop; ``objectives.iwae``).  For the
        Bernoulli MLP decoder, whose last layer is linear (logits l = W h + b), it uses
        Σ_d x_d·l_d = h·(Wᵀx) + b·x, so only softplus(l) is computed per pixel
        (``logspace.softplus_sum``): log p(x|z) = Σ_d [x_d·l_d - softplus(l_d)].
        """
        s, b, latent = z.shape
        if self.config.likelihood == "bernoulli" and self.config.arch == "mlp":
            *body, last = self.decoder.net
            h = nn.Sequential(*body)(z)                                    # (S, B, H)
            xf = x.flatten(1)                                              # (B, D)
            x_dot_logits = (h * (xf @ last.weight)).sum(-1) + xf @ last.bias
            return x_dot_logits - softplus_sum(F.linear(h, last.weight, last.bias))
        xs = x.expand(s, *x.shape).reshape(s * b, *x.shape[1:])
        return self.observe(z.reshape(s * b, latent), validate=False).log_prob(xs).view(s, b)

    def log_prob(self, x: torch.Tensor, k: int = 5000, batch_size: int = 100,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """The importance-sampled estimate of log p(x) per example: x (N, C, H, W) -> (N,), nats.

        log (1/k) Σ_i p(x, z_i)/q(z_i|x), z_i ~ q(z|x) (``eval.likelihood.log_px``; its
        expectation is the IWAE bound L_k <= log p(x), rising to log p(x) with k).  x must be
        what the model was trained on: binarised for "bernoulli", dequantised for "gaussian"
        (``Dataset.model_input``).  A plain autoencoder has no P(x): VaekitError.
        """
        if not self.is_variational:
            raise VaekitError("log p(x) needs a VAE; this model is a plain autoencoder (no q(z|x), no P(x))")
        # eval builds on objectives and models: imported here, not at the top, to avoid a cycle
        from ..eval.likelihood import log_px
        from ..eval.report import check_input

        check_input(self, x)
        return log_px(self, x, k=k, batch_size=batch_size, generator=generator)

    def exact_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """The exact log p(x) of the linear VAE per example: x (N, C, H, W) -> (N,), nats, x's dtype.

        z ~ N(0, I) and x = W z + b + s·ε make x ~ N(b, W Wᵀ + s² I) (probabilistic PCA;
        Tipping & Bishop 1999), scored in float64 by ``LowRankMultivariateNormal``, which uses
        the low rank of W Wᵀ (Woodbury) instead of factorising the D x D covariance.  Gradients
        flow (it can be maximised directly).  Needs arch "linear" and kind "vae"
        (``has_exact_log_prob``); any other model raises VaekitError.
        """
        if not self.has_exact_log_prob:
            what = "a plain autoencoder (no P(x))" if self.config.arch == "linear" else f"arch {self.config.arch!r}"
            raise VaekitError(f"the exact log p(x) needs arch 'linear' and kind 'vae'; this model is {what} "
                              "(log_prob estimates it by importance sampling for any VAE)")
        from ..eval.report import check_input   # eval builds on models: imported here to avoid a cycle

        check_input(self, x)
        loc, factor, noise_var = self.linear_marginal()
        p_x = LowRankMultivariateNormal(loc, cov_factor=factor, cov_diag=noise_var)     # N(loc, F Fᵀ + s² I)
        return p_x.log_prob(x.flatten(1).double()).to(x.dtype)

    def linear_marginal(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The linear model's p(x) = N(loc, F Fᵀ + diag(s²)), float64: (loc (D,), F (D, r), s² (D,)).

        One layer: z ~ N(0, I), x = W z + b + s·ε, so loc = b and F = W.
        """
        w, b = self.decoder.mean.weight.double(), self.decoder.mean.bias.double()     # (D, L), (D,)
        return b, w, torch.exp(self.decoder.log_var.double()).expand_as(b)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n prior draws z ~ p(z); returns the mean images E[x|z], (n, C, H, W).

        Standard prior: z ~ N(0, I).  VampPrior: k uniform over the pseudo-inputs, then z ~ q(z|u_k).
        """
        positive_int("n", n)
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        if not self.prior_is_standard:
            m, log_var = self.encode(self.pseudo_inputs())
            k = torch.randint(0, self.config.pseudo_inputs, (n,), generator=generator, device=device)
            z = m[k] + torch.exp(0.5 * log_var[k]) * z
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
        integer("steps", steps, low=2)   # the two end points
        a, b = self.encode(x_a)[0], self.encode(x_b)[0]
        t = torch.linspace(0, 1, steps, device=a.device).view(1, steps, 1)
        path = a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t                    # (B, steps, L)
        return self.decode(path.flatten(0, 1)).mean.view(len(a), steps, *x_a.shape[1:])
