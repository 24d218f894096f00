"""The lecture's autoencoder and variational autoencoder, built from parts.

    encoder     x -> (m, σ), a network (``networks``)
    posterior   (m, σ) -> q(z|x), a family of distributions (``posteriors``)
    prior       p(z) (``priors``)
    decoder     z -> p(x|z), a network and a likelihood (``observe``)

Notation (lecture -> code), with σ the *log-variance* of the code noise:

    m  = the encoder's code                      -> ``m``        (B, latent)
    σ  = log of the noise variance, exp(σ) > 0    -> ``log_var``  (B, latent)
    e  ~ N(0, I)                                  -> ``e``
    c  = m + exp(σ/2)·e, the noisy code           -> ``z``

The lecture writes c = m + exp(σ)·e while also calling exp(σ) the variance; the noise
scale must be the standard deviation exp(σ/2) for both statements to hold, so that is
what we use (``gaussian.reparameterize``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, LowRankMultivariateNormal, Normal

from ..errors import VaekitError
from ..validate import integer, positive_int
from .classes import check_classes, one_hot
from .config import ModelConfig
from .gaussian import log_normal, log_standard_normal   # noqa: F401  (re-exported: older imports)
from .inputs import check_input
from .logspace import softplus_sum
from .networks import ConvDecoder, ConvEncoder, LinearDecoder, LinearEncoder, MLPDecoder, MLPEncoder
from .posteriors import IAF, DiagonalGaussian, TwoLayerGaussian
from .priors import HierarchicalPrior, MixturePrior, Prior, StandardNormal, VampPrior

# Where the parameters of runs saved before the parts lived (name then -> name now): loading
# such a run renames them (``_renamed_parts``) and marks the model ``loaded_before_parts``.  Their
# order in ``parameters()`` is unchanged except for the VampPrior's pseudo-inputs, then a
# parameter of the VAE itself and so listed first (``positions_before_parts``: the optimizer
# state of such a run is put in today's order, ``train.optim.reordered``).
OLD_NAMES = {"pseudo_logits": "prior.pseudo_logits", "encoder2.": "posterior.encoder2.",
             "prior1.": "prior.conditional."}


def build_posterior(config: ModelConfig) -> nn.Module | None:
    """The posterior family the config names; None for a plain autoencoder (no q(z|x))."""
    if config.kind != "vae":
        return None
    if config.stochastic_layers == 2:
        return TwoLayerGaussian(config.latent, config.latent2, config.hidden2, config.arch == "linear")
    if config.posterior == "iaf":
        return IAF(config.latent, config.flow_steps)
    return DiagonalGaussian()


def build_prior(config: ModelConfig, encode: Callable) -> Prior:
    """The prior the config names.  A plain autoencoder keeps N(0, I): the codes ``sample`` decodes."""
    if config.stochastic_layers == 2:
        return HierarchicalPrior(config.latent, config.latent2, config.hidden2, config.arch == "linear")
    if config.prior == "vamp":
        return VampPrior(config.pseudo_inputs, config.image_shape, config.latent, encode)
    if config.prior == "mog":
        return MixturePrior(config.prior_components, config.latent)
    return StandardNormal(config.latent)


def _renamed_parts(module, state_dict, prefix, *args) -> None:
    """A load_state_dict pre-hook: the parameter names of runs saved before the parts (``OLD_NAMES``)."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix):]
        for old, new in OLD_NAMES.items():
            if rest.startswith(old) and (old.endswith(".") or rest == old):
                state_dict[prefix + new + rest[len(old):]] = state_dict.pop(key)
                module.loaded_before_parts = True
                break


class VAE(nn.Module):
    """A VAE (``kind="vae"``) or the lecture's plain autoencoder (``kind="ae"``: deterministic code).

    Both decode to a distribution p(x|z), so reconstruction errors are log-likelihoods in
    nats for either.  ``encode`` returns (m, log_var); log_var is None for the plain AE.
    ``forward(x)`` (what ``model(x)`` runs) returns the one-sample ELBO terms per example,
    the quantity training maximises (``objectives.elbo.elbo``, from the parts).  It is a
    ``DensityModel`` and a ``LatentVariableModel`` (``models.protocol``): ``log_prob``
    estimates log p(x) by importance sampling.

    The parts (``models`` docstring): ``encoder`` and ``decoder`` networks, ``posterior`` (a
    family from ``posteriors``: diagonal Gaussian, IAF, or the two-layer q(z1|x) q(z2|z1);
    None for the AE) and ``prior`` (from ``priors``: N(0, I), VampPrior, a learned mixture, or
    the two-layer p(z2) p(z1|z2)).  With two stochastic layers the code is z = [z1, z2] and the
    decoder reads z1 (the first ``config.latent`` entries).

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
        self.config = config
        c, h, w = config.image_shape
        enc_out = 2 * config.latent if config.kind == "vae" else config.latent
        # Gaussian p(x|z): the decoder emits a mean and a log-variance per pixel.
        dec_shape = (c * (2 if config.likelihood == "gaussian" else 1), h, w)
        y = config.classes   # the one-hot class's width, joined to both networks' inputs (0: unconditional)
        if config.arch == "linear":   # one linear map each way; the noise variances are parameters
            self.encoder = LinearEncoder(config.image_shape, config.latent, variational=config.kind == "vae")
            self.decoder = LinearDecoder(config.latent, config.image_shape)
        elif config.arch == "mlp":
            self.encoder = MLPEncoder(config.image_shape, config.hidden, enc_out, condition=y)
            self.decoder = MLPDecoder(config.latent, config.hidden, dec_shape, condition=y)
        else:
            self.encoder = ConvEncoder(config.image_shape, config.hidden, enc_out, config.conv_channels, condition=y)
            self.decoder = ConvDecoder(config.latent, config.hidden, dec_shape, config.conv_channels, condition=y)
        # after the networks, in this order: parameters() lists them as runs saved before the parts did
        self.posterior = build_posterior(config)
        self.prior = build_prior(config, self._encode_gaussian)
        self.register_load_state_dict_pre_hook(_renamed_parts)
        self.loaded_before_parts = False   # set when weights saved before the parts are loaded

    def positions_before_parts(self) -> list[int]:
        """For each parameter in today's ``parameters()`` order, its position in a run saved before the
        parts: the same, except that the VampPrior's pseudo-inputs came first."""
        names = [name for name, _ in self.named_parameters()]
        then = sorted(range(len(names)), key=lambda i: names[i] != "prior.pseudo_logits")   # stable
        positions = [0] * len(names)
        for position, i in enumerate(then):
            positions[i] = position
        return positions

    @property
    def latent_dim(self) -> int:
        """The size of a code z: latent, or latent + latent2 with two stochastic layers (z = [z1, z2])."""
        return self.config.latent + self.config.latent2

    @property
    def likelihood(self) -> str:
        """"bernoulli" (binarised data) or "gaussian" (dequantised data): the family of p(x|z)."""
        return self.config.likelihood

    @property
    def is_variational(self) -> bool:
        return self.config.kind == "vae"

    @property
    def conditional(self) -> bool:
        """Whether the model is conditioned on the class y: q(z|x, y), p(x|z, y) (condition "label")."""
        return self.config.condition != "none"

    def one_hot(self, y, n: int, like: torch.Tensor) -> torch.Tensor | None:
        """y for the networks: None for an unconditional model; else (n, C) in ``like``'s dtype and
        device (``classes.one_hot``: y an int, (n,) ints, or (n, C) floats)."""
        return one_hot(y, self.config.classes if self.conditional else None, n, like)

    def check_classes(self, y) -> None:
        """A one-line VaekitError unless every class in y is one of the model's, 0 to C-1 (a host sync)."""
        check_classes(y, self.config.classes)

    @property
    def has_exact_log_prob(self) -> bool:
        """Whether ``exact_log_prob`` is available: for the linear VAE (arch "linear", kind "vae") only."""
        return self.config.arch == "linear" and self.is_variational

    @property
    def prior_is_standard(self) -> bool:
        """Whether p(z) = N(0, I)."""
        return type(self.prior) is StandardNormal

    @property
    def kl_in_closed_form(self) -> bool:
        """Whether KL(q(z|x) ‖ p(z)) has a closed form per dimension for this prior and posterior
        (N(0, I) and a diagonal Gaussian q); else ``forward`` estimates it from its one code."""
        return self.is_variational and self.prior.offers_kl(self.posterior)

    @property
    def kl_size(self) -> int:
        """The length of ``forward``'s KL per example: latent (exact, per dimension) where the KL has a
        closed form, 1 (a one-sample estimate of the whole KL) otherwise."""
        return self.latent_dim if self.kl_in_closed_form else 1

    def pseudo_inputs(self) -> torch.Tensor:
        """The VampPrior's pseudo-inputs u_k = sigmoid(a_k): (K, C, H, W) in (0, 1)."""
        return self.prior.pseudo_inputs()

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) in nats: z (..., L) -> (...) (``prior.log_prob``)."""
        return self.prior.log_prob(z)

    def fixed_prior(self) -> contextlib.AbstractContextManager[None]:
        """A block in which the parameters do not change (evaluation): log p(z) computed without
        gradients may reuse work (the VampPrior encodes its pseudo-inputs once for the block,
        ``eval.likelihood.log_px``, ``eval.elbo.elbo_sums``).  Re-entrant."""
        return self.prior.fixed()

    def _encode_gaussian(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoder's (m, σ) of x, (B, latent) each: the VampPrior's components q(z|u_k)."""
        return self.encoder(x).chunk(2, dim=-1)

    def encode(self, x: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, C, H, W) float in [0, 1] -> m: (B, L), log_var: (B, L) or None (the plain AE).

        y: each example's class, for a conditional model (``one_hot``): q(z|x, y).

        With two stochastic layers, m = [m1, m2] and log_var = [σ1, σ2] along the mean path,
        (m2, σ2) of q(z2|z1 = m1): what reconstructions, interpolations and the active-unit count
        use (q(z2|x) itself is not Gaussian).  With an IAF posterior, the flow's base Gaussian.
        """
        out = self.encoder(x, self.one_hot(y, len(x), x))
        if not self.is_variational:
            return out, None
        m, log_var = out.chunk(2, dim=-1)
        return self.posterior.summary(m, log_var)

    def q(self, m: torch.Tensor, log_var: torch.Tensor):
        """q(z|x) from ``encode``'s (m, log_var), (B, L) each: an object with ``rsample`` (``posteriors``)."""
        return self.posterior(m, log_var)

    def _check_code(self, z: torch.Tensor) -> None:
        if z.shape[-1] != self.latent_dim:
            layers = (f"{self.config.latent} + {self.config.latent2} = {self.latent_dim} entries, [z1, z2]"
                      if self.config.latent2 else f"{self.latent_dim} entries")
            raise VaekitError(f"a code of this model has {layers}; got {z.shape[-1]}")

    def decode(self, z: torch.Tensor, validate: bool = True, y=None) -> Distribution:
        """z: (B, latent_dim) -> p(x|z) with batch shape (B,) and event shape (C, H, W); p(x|z, y) with
        y, each example's class, for a conditional model (``one_hot``).

        ``log_prob(x)`` is log p(x|z) per example in nats (summed over pixels, every
        constant kept); ``mean`` is the image.  The distribution checks its arguments, so
        ``log_prob`` of data outside the support (a Bernoulli of 0..255 pixels) raises
        ValueError.  ``validate=False`` skips the checks: for the hot loops of training and
        importance sampling (``forward``, ``log_likelihood``), whose inputs are known good.
        With two stochastic layers the decoder reads z1 (z2 reaches x only through z1).
        """
        self._check_code(z)
        return self.observe(z[..., :self.config.latent], validate, self.one_hot(y, len(z), z))

    def observe(self, z: torch.Tensor, validate: bool = True, y: torch.Tensor | None = None) -> Distribution:
        """p(x|z) from the code the decoder reads, (B, latent), and the one-hot class y (B, C) or None."""
        out = self.decoder(z, y)
        if self.config.arch == "linear":   # out is the mean W z + b itself; one noise scale s for every pixel
            scale = torch.exp(0.5 * self.decoder.log_var).expand_as(out)
            base = Normal(out, scale, validate_args=validate)
        elif self.config.likelihood == "bernoulli":
            base = Bernoulli(logits=out, validate_args=validate)
        else:
            mean_logit, log_var = out.chunk(2, dim=1)
            base = Normal(torch.sigmoid(mean_logit), torch.exp(0.5 * log_var), validate_args=validate)
        return Independent(base, 3, validate_args=validate)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, validate: bool = True, y=None):
        """The one-sample ELBO terms of each example: x (B, C, H, W) in [0, 1] -> ``ElboTerms``.

        recon = log p(x|c), (B,), nats, at a code c ~ q(z|x) drawn from ``generator``; kl =
        KL(q(z|x) ‖ p(z)) per latent dimension, (B, L), where it has a closed form, else the
        one-sample estimate log q(c|x) − log p(c), (B, 1).  A plain autoencoder decodes c = m
        and has kl None.  L_b ≈ recon − kl.sum(-1).  The formula is ``objectives.elbo.elbo``,
        the one ELBO every caller shares; ``forward`` is its entry point for ``model(x)``, which
        hooks, ``torch.compile`` and DDP wrap.  ``validate=False`` builds p(x|c) unchecked.  y: each
        example's class, for a conditional model.
        """
        from ..objectives.elbo import elbo   # the one ELBO lives a layer up (tests/test_layers.py)

        return elbo(self, x, generator=generator, validate=validate, y=y)

    def sample_posterior(self, m: torch.Tensor, log_var: torch.Tensor, samples: int | None = None,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes z ~ q(z|x) and their log q(z|x), from ``encode``'s (m, log_var), each (B, L).

        Returns z (B, L) and log q (B,), or (samples, B, L) and (samples, B) with ``samples``;
        nats (``q(m, log_var).rsample``).
        """
        return self.q(m, log_var).rsample(samples, generator)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor, y=None) -> torch.Tensor:
        """log p(x|z) in nats for several codes per example: z (S, B, latent_dim), x (B, C, H, W) -> (S, B).

        Equal to ``decode(z[s]).log_prob(x)`` for each s, without S copies of x and without
        argument checks (the importance-sampling hot loop; ``objectives.iwae``).  For the
        Bernoulli MLP decoder, whose last layer is linear (logits l = W h + b), it uses
        Σ_d x_d·l_d = h·(Wᵀx) + b·x, so only softplus(l) is computed per pixel
        (``logspace.softplus_sum``): log p(x|z) = Σ_d [x_d·l_d - softplus(l_d)].
        """
        self._check_code(z)
        z = z[..., :self.config.latent]   # the code the decoder reads (z1 with two layers)
        s, b, latent = z.shape
        y = self.one_hot(y, b, z)         # (B, C) or None
        if self.config.likelihood == "bernoulli" and self.config.arch == "mlp":
            last = self.decoder.net[-1]
            h = self.decoder.features(z, y)                                # (S, B, H)
            xf = x.flatten(1)                                              # (B, D)
            x_dot_logits = (h * (xf @ last.weight)).sum(-1) + xf @ last.bias
            return x_dot_logits - softplus_sum(F.linear(h, last.weight, last.bias), overwrite=True)
        xs = x.expand(s, *x.shape).reshape(s * b, *x.shape[1:])
        ys = None if y is None else y.expand(s, *y.shape).reshape(s * b, -1)
        return self.observe(z.reshape(s * b, latent), False, ys).log_prob(xs).view(s, b)

    def log_prob(self, x: torch.Tensor, k: int = 5000, batch_size: int = 100,
                 generator: torch.Generator | None = None, y=None) -> torch.Tensor:
        """The importance-sampled estimate of log p(x) per example: x (N, C, H, W) -> (N,), nats;
        log p(x|y) with y (N,), each example's class, for a conditional model.

        log (1/k) Σ_i p(x, z_i)/q(z_i|x), z_i ~ q(z|x) (``objectives.iwae.log_px``; its
        expectation is the IWAE bound L_k <= log p(x), rising to log p(x) with k).  x must be
        what the model was trained on: binarised for "bernoulli", dequantised for "gaussian"
        (``Dataset.model_input``).  A plain autoencoder has no P(x): VaekitError.
        """
        if not self.is_variational:
            raise VaekitError("log p(x) needs a VAE; this model is a plain autoencoder (no q(z|x), no P(x))")
        from ..objectives.iwae import log_px   # the estimator lives a layer up (tests/test_layers.py)

        check_input(self, x)
        if y is not None:
            y = torch.as_tensor(y, device=x.device)
            y = y.expand(len(x)) if y.dim() == 0 else y
            self.one_hot(y, len(x), x)     # the right number of classes, or a one-line error
            self.check_classes(y)
        return log_px(self, x, k=k, batch_size=batch_size, generator=generator, y=y)

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
        check_input(self, x)
        loc, factor, noise_var = self.linear_marginal()
        p_x = LowRankMultivariateNormal(loc, cov_factor=factor, cov_diag=noise_var)     # N(loc, F Fᵀ + s² I)
        return p_x.log_prob(x.flatten(1).double()).to(x.dtype)

    def linear_marginal(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The linear model's p(x) = N(loc, F Fᵀ + diag(s²)), float64: (loc (D,), F (D, r), s² (D,)).

        The decoder reads z1 ~ N(μ, G Gᵀ) (the prior's ``linear_moments``: N(0, I) for one layer,
        z1 = C z2 + e + D^½ η for two) and gives x = W z1 + b + s·ε, so loc = W μ + b, F = W G.
        """
        w, b = self.decoder.mean.weight.double(), self.decoder.mean.bias.double()     # (D, L), (D,)
        mean, factor = self.prior.linear_moments()
        return w @ mean.to(w.device) + b, w @ factor.to(w.device), torch.exp(self.decoder.log_var.double()).expand_as(b)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, y=None) -> torch.Tensor:
        """Decode n prior draws z ~ p(z) (``prior.sample``); returns the mean images E[x|z], (n, C, H, W).

        A conditional model draws images of the class y (an int, or n ints): E[x|z, y].
        """
        positive_int("n", n)
        device = next(self.parameters()).device
        if y is not None and self.conditional:
            self.check_classes(y)
        z = self.prior.sample(n, generator, device)
        return self.decode(z, y=y).mean


    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """The mean image decoded from the code m of x: (B, C, H, W) -> (B, C, H, W) (with its class y,
        for a conditional model)."""
        m, _ = self.encode(x, y)
        return self.decode(m, y=y).mean

    @torch.no_grad()
    def interpolate(self, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10, y_a=None, y_b=None) -> torch.Tensor:
        """Decodes of the codes on the line from m(x_a) to m(x_b): (B, C, H, W) twice -> (B, steps, C, H, W).

        The lecture's full moon / half moon: a VAE decodes codes between two images to
        something in between; a plain AE need not.  Step 0 is the reconstruction of x_a,
        the last step that of x_b.  A conditional model takes each end's class, y_a and y_b, and
        decodes the path with their one-hot vectors mixed in the same proportions as the codes.
        """
        integer("steps", steps, low=2)   # the two end points
        a, b = self.encode(x_a, y_a)[0], self.encode(x_b, y_b)[0]
        t = torch.linspace(0, 1, steps, device=a.device).view(1, steps, 1)
        path = a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t                    # (B, steps, L)
        y = None
        if self.conditional:
            ya, yb = self.one_hot(y_a, len(a), a), self.one_hot(y_b, len(b), b)  # (B, C) each
            y = (ya.unsqueeze(1) * (1 - t) + yb.unsqueeze(1) * t).flatten(0, 1)
        return self.decode(path.flatten(0, 1), y=y).mean.view(len(a), steps, *x_a.shape[1:])
