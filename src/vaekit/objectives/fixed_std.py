"""The IWAE bound with a Gaussian decoder's variance replaced by a fixed f² (``--anneal-std``).

A Gaussian p(x|z) = N(μ(z), diag s²(z)) can explain data it has not yet reached with a large
variance s² in place of moving its means μ there: from a random start the 1-D-latent VAE on the
spiral settles on a curve that cuts across the arms, its variance covering them (lecture,
section 3).  Scoring the data under a fixed std f instead, f falling over training
(``train.loop.annealed_std``: deterministic annealing, f a temperature), leaves the means no
way to explain a point but to come near it:

    p_f(x|z) = N(x; μ(z), f² I)
    log w_i  = log p_f(x|z_i) + log p(z_i) − log q(z_i|x),    z_i ~ q(z|x)
    L_K^f    = logsumexp_i(log w_i) − log K                  (objectives.iwae; K = 1: the ELBO)

Meanwhile the decoder's own variance s²(z), which L_K^f never reads, is fitted where the tempered
model puts its codes, so that it is ready when f is switched off: with the weights w̃ = softmax(w),
the codes z̄ and the means held fixed (an M-step for s², the variance's part of the IWAE gradient
Σ_i w̃_i ∇ log p(x|z_i)),

    V = Σ_i w̃_i log N(x; μ̄(z̄_i), diag s²(z̄_i)),    μ̄, z̄, w̃ without gradient.

The codes are held fixed too: in D = 128 letting V move them made the encoder drift and the loss
non-finite within the first epoch.  Training minimises −L_K^f − V per example (not a bound).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import VaekitError
from ..models.networks import MLPDecoder
from .iwae import iwae_bound


def negative_iwae_fixed_std(model, x: torch.Tensor, k: int, std: float,
                            generator: torch.Generator | None = None, y=None) -> torch.Tensor:
    """The loss −L_K^f − V per example (module docstring): x (B, C, H, W) -> (B,), nats.

    ``std`` is f > 0; ``model`` a VAE with a Gaussian p(x|z) (``decode(z).base_dist`` a Normal with
    ``loc`` μ(z) and ``scale`` s(z)).  Two passes of the decoder over the k·B codes: one for the
    means (gradients to the encoder and the decoder), one at the codes held fixed for s; each
    computes only its half of the last layer where it can (``own_mean``, ``own_scale``).  y: the
    classes of a conditional model.
    """
    if model.likelihood != "gaussian":
        raise VaekitError(f"a fixed decoder std replaces the variance of a Gaussian p(x|z); this model's "
                          f"likelihood is {model.likelihood!r}")
    m, log_var = model.encode(x) if y is None else model.encode(x, y)
    if log_var is None:
        raise VaekitError("the IWAE bound needs a VAE (an encoder with a variance); got a plain autoencoder")
    z, log_q = model.q(m, log_var).rsample(k, generator)                      # (k, B, L), (k, B)
    ys = None if y is None else y.expand(k, *y.shape).flatten(0, 1)          # each code's class
    mean = own_mean(model, z.flatten(0, 1), ys)                               # μ(z_i), the first pass: (k·B, C, H, W)
    mean = mean.view(k, *x.shape)                                             # (k, B, C, H, W)
    log_lik = log_normal_pixels(x, mean, mean.new_full((), std))              # log p_f(x|z_i); f filled on the device
    log_w = log_lik + model.prior.log_prob(z) - log_q                         # (k, B)
    own = own_scale(model, z.detach().flatten(0, 1), ys)                     # s(z̄_i), the second pass
    fit = log_normal_pixels(x, mean.detach(), own.reshape(k, *x.shape))      # (k, B)
    weights = torch.softmax(log_w.detach(), dim=0)                            # w̃_i, (k, B)
    return -iwae_bound(log_w) - (weights * fit).sum(0)


def log_normal_pixels(x: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag scale²) summed over each image's pixels: x (B, C, H, W), mean (k, B, C, H, W),
    scale as mean or a 0-dim tensor (a fixed std f) -> (k, B), nats.

    The terms and their sum are ``Independent(Normal(mean, scale), 3).log_prob`` of x repeated k
    times (tests/objectives/test_fixed_std.py checks them equal), without that repetition and
    without the full-size copies of a fixed f that ``Normal`` broadcasts, and then squares and
    takes the log of, for every pixel of every code.  Written as ``Normal.log_prob`` writes it, from
    the std, not as ``models.gaussian.log_normal`` (from a log-variance), so that training rounds as
    it did with ``Normal`` and trains the same weights (docs/performance.md, "The half-layer passes").
    """
    terms = -((x - mean) ** 2) / (2 * scale ** 2) - scale.log() - math.log(math.sqrt(2 * math.pi))
    return terms.flatten(2).sum(-1)


# Half of the last layer in each pass (``own_mean``, ``own_scale``): on by default; False runs the whole
# decoder in both.  It is taken for outputs of at least HALF_LAYER_MIN_OUTPUTS values (2·C·H·W): for
# narrower ones half a product saves nothing measurable (docs/performance.md, "The half-layer passes").
HALF_LAYER = True
HALF_LAYER_MIN_OUTPUTS = 256


def half_layer_reason(model) -> str | None:
    """Why the two passes cannot compute one half of the last layer each for ``model`` (None: they can):
    the decoder must be the MLP decoder (``models.networks.MLPDecoder``) of a Gaussian p(x|z), whose last
    layer is a Linear emitting the means' logits for the C·H·W pixels, then their log-variances."""
    decoder = getattr(model, "decoder", None)
    if not isinstance(decoder, MLPDecoder) or model.likelihood != "gaussian":
        return "the decoder is not the Gaussian MLP decoder"
    last = decoder.net[-1] if len(decoder.net) else None
    c2, h, w = decoder.out_shape
    if not isinstance(last, nn.Linear) or c2 % 2 or last.out_features != c2 * h * w:
        return "the decoder's last layer is not one Linear emitting the means' logits, then the log-variances"
    if last.out_features < HALF_LAYER_MIN_OUTPUTS:
        return f"the decoder's output ({last.out_features} values) is too narrow to gain from half a layer"
    return None


def own_mean(model, z: torch.Tensor, y=None) -> torch.Tensor:
    """μ(z), the decoder's means at codes z (K, latent): (K, C, H, W), as ``model.decode(z).mean``.
    y: the codes' classes (a conditional model).

    For the Gaussian MLP decoder (``half_layer_reason``) only the means' half of the last layer: the
    log-variances it would also emit are not read by the bound.  ``HALF_LAYER = False`` runs the
    whole decoder (tests/objectives/test_fixed_std.py checks both give the same values and gradients).
    """
    if not HALF_LAYER or half_layer_reason(model) is not None:
        return model.decode(z, validate=False, y=y).mean
    return torch.sigmoid(_half_layer(model, z, y, means=True))


def own_scale(model, z: torch.Tensor, y=None) -> torch.Tensor:
    """s(z), the decoder's own std at codes z (K, latent) held fixed: (K, C, H, W), as
    ``model.decode(z).base_dist.scale``.  y: the codes' classes (a conditional model).

    For the Gaussian MLP decoder (``half_layer_reason``) only the log-variance half of the last layer:
    the means it would also emit are not read here (the bound took them from the first pass).
    ``HALF_LAYER = False`` runs the whole decoder.
    """
    if not HALF_LAYER or half_layer_reason(model) is not None:
        return model.decode(z, validate=False, y=y).base_dist.scale
    return torch.exp(0.5 * _half_layer(model, z, y, means=False))


def _half_layer(model, z: torch.Tensor, y, means: bool) -> torch.Tensor:
    """The hidden layers as in ``decode``, then the last layer's rows of the means' logits (``means``) or of
    the log-variances: z (K, latent) -> (K, C, H, W), C the image's channels."""
    model._check_code(z)
    z = z[..., :model.config.latent]
    hidden = model.decoder.features(z, model.one_hot(y, len(z), z))          # (K, H)
    last = model.decoder.net[-1]
    c2, h, w = model.decoder.out_shape
    half = c2 // 2 * h * w
    rows = slice(None, half) if means else slice(half, None)
    return F.linear(hidden, last.weight[rows], last.bias[rows]).view(-1, c2 // 2, h, w)
