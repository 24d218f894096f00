"""Encoder and decoder networks: plain ``nn.Module``s mapping images to vectors and back.

They know nothing of distributions; ``vae.py`` turns their outputs into m, σ and p(x|z).
A conditional model's networks take one more input, y (B, C): the one-hot class, joined to
the flattened image (encoders) or to the code (decoders); ``condition`` = C is its width (0: none).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (none after the last).

    Each ReLU works in place on the fresh output of the Linear before it (which no other code
    holds, and whose backward does not need it): one pass over the hidden layer instead of a
    copy, the same values."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


def joined(a: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """[a, y] along the last dimension, y broadcast over a's leading ones; a itself when y is None."""
    return a if y is None else torch.cat([a, y.expand(*a.shape[:-1], y.shape[-1])], -1)


class MLPEncoder(nn.Module):
    """x: (B, C, H, W) [, y (B, condition)] -> (B, out).  The 784-400-20 VAE is MLPEncoder(784, [400], 40)."""

    def __init__(self, image_shape, hidden, out, condition=0):
        super().__init__()
        self.net = mlp([math.prod(image_shape) + condition, *hidden, out])

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(joined(x.flatten(1), y))


class MLPDecoder(nn.Module):
    """z: (B, latent) -> (B, *out_shape) of per-pixel parameters (logits, or means and log-variances)."""

    def __init__(self, latent, hidden, out_shape, condition=0):
        super().__init__()
        self.out_shape = tuple(out_shape)
        self.net = mlp([latent + condition, *reversed(hidden), math.prod(out_shape)])

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(joined(z, y)).view(-1, *self.out_shape)

    def features(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The last hidden layer's activations h, what the last (linear) layer reads: z (..., latent) -> (..., H).
        For the shortcuts that need only part of that layer (``VAE.log_likelihood``, ``objectives.fixed_std``)."""
        return self.net[:-1](joined(z, y))


class ConvEncoder(nn.Module):
    """Two stride-2 convolutions (H, W -> H/4, W/4), then a hidden layer.

    x: (B, C, H, W) -> (B, out).
    """

    def __init__(self, image_shape, hidden, out, channels=(32, 64), condition=0):
        super().__init__()
        c, h, w = image_shape
        c1, c2 = channels
        self.net = nn.Sequential(
            nn.Conv2d(c, c1, 4, stride=2, padding=1), nn.ReLU(),    # (B, c1, H/2, W/2)
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),   # (B, c2, H/4, W/4)
            nn.Flatten(),                                           # y joins here
            nn.Linear(c2 * (h // 4) * (w // 4) + condition, hidden[0]), nn.ReLU(),
            nn.Linear(hidden[0], out),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            return self.net(x)
        return self.net[5:](joined(self.net[:5](x), y))


class ConvDecoder(nn.Module):
    """The mirror of ConvEncoder: z: (B, latent) -> (B, *out_shape)."""

    def __init__(self, latent, hidden, out_shape, channels=(32, 64), condition=0):
        super().__init__()
        c, h, w = out_shape
        c1, c2 = channels
        self.net = nn.Sequential(
            nn.Linear(latent + condition, hidden[0]), nn.ReLU(),
            nn.Linear(hidden[0], c2 * (h // 4) * (w // 4)), nn.ReLU(),
            nn.Unflatten(1, (c2, h // 4, w // 4)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # (B, c1, H/2, W/2)
            nn.ConvTranspose2d(c1, c, 4, stride=2, padding=1),              # (B, C, H, W)
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(joined(z, y))


class LinearEncoder(nn.Module):
    """The linear VAE's encoder: m = A x + c, and a log-variance σ that does not depend on x.

    x: (B, C, H, W) -> (B, 2·latent) = [m, σ] (``variational``), or (B, latent) = m.  σ is one
    learned vector (latent,), repeated for every example, as in Lucas et al. (2019, "Don't
    blame the ELBO"): for a linear-Gaussian model the true posterior p(z|x) has covariance
    (I + WᵀW/s²)⁻¹, the same for every x, so a per-example σ would only add parameters that
    the optimum does not use.
    """

    def __init__(self, image_shape, latent, variational=True, condition=0):
        super().__init__()
        self.code = nn.Linear(math.prod(image_shape) + condition, latent)           # A, c
        self.log_var = nn.Parameter(torch.zeros(latent)) if variational else None   # σ, (latent,)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        m = self.code(joined(x.flatten(1), y))                                      # (B, latent)
        if self.log_var is None:
            return m
        return torch.cat([m, self.log_var.expand_as(m)], dim=-1)


class LinearDecoder(nn.Module):
    """The linear VAE's decoder: the mean W z + b of p(x|z), and one noise log-variance log s².

    z: (B, latent) -> (B, *out_shape), the mean (identity output: no sigmoid, the data need
    not lie in [0, 1]).  ``log_var`` is a scalar: the noise is isotropic, s² I, as in
    probabilistic PCA (Tipping & Bishop 1999), whose log p(x) is then N(x; b, W Wᵀ + s² I).
    """

    def __init__(self, latent, out_shape, condition=0):
        super().__init__()
        self.out_shape = tuple(out_shape)
        self.mean = nn.Linear(latent + condition, math.prod(out_shape))    # W, b
        self.log_var = nn.Parameter(torch.zeros(()))                        # log s²

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.mean(joined(z, y)).view(-1, *self.out_shape)


class GaussianLayer(nn.Module):
    """A Gaussian between two codes of a hierarchy: u (..., a) -> (..., 2·b) = [m, σ] (σ a log-variance).

    An MLP a -> hidden... -> 2b (the two-layer model's q(z2|z1) and p(z1|z2)); or, with ``linear``,
    m = A u + c and one learned σ vector (b,), repeated for every u: the linear two-layer model
    stays linear-Gaussian, so its exact log p(x) is known.  Leading dimensions pass through
    (the k samples of importance sampling).
    """

    def __init__(self, a: int, b: int, hidden=(), linear: bool = False):
        super().__init__()
        if linear:
            self.mean = nn.Linear(a, b)                             # A, c
            self.log_var = nn.Parameter(torch.zeros(b))             # σ, (b,)
        else:
            self.net = mlp([a, *hidden, 2 * b])

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if not hasattr(self, "mean"):
            return self.net(u)
        m = self.mean(u)
        return torch.cat([m, self.log_var.expand_as(m)], dim=-1)
