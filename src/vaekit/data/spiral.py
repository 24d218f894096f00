"""A noisy spiral in the plane: 2-D data whose density is known exactly.

The lecture's mixture example: a finite mixture of Gaussians needs many components to follow
a curve, an infinite one (a VAE with a 1-D latent) follows it with one, and both can be
scored against the true log p(x).

The curve is an Archimedean spiral of TURNS turns about (0.5, 0.5), its radius growing
linearly from R_START to R_END, inside the unit square:

    s(t) = (0.5, 0.5) + ρ(t)·(cos θ(t), sin θ(t)),   ρ(t) = R_START + (R_END − R_START)·t,
    θ(t) = 2π·TURNS·t,   t ∈ [0, 1]   (CENTRE = 0.5).

A point is x = s(t) + ε with t ~ U[0, 1] and ε ~ N(0, σ²I), σ = NOISE_STD.  The density is
uniform in t, *not* in arc length: the inner turns are shorter, so points are denser there.
Arms one turn apart are (R_END − R_START)/TURNS = 0.21 apart, 7σ: a clear spiral.

    p(x) = ∫₀¹ N(x; s(t), σ²I) dt

Registry dataset ``spiral``: float32 "images" (N, 1, 1, 2), one row of the two coordinates;
splits train 10,000, val 2,000, test 5,000, each drawn with its own seed (SPLIT_SEEDS).

The same manifold in D dimensions (``embedded``, registry ``spiral-dD`` for D in EMBED_DIMS):
a fixed orthonormal D × 2 matrix Q (``embedding``; the identity for D = 2) places the centred
spiral in R^D about the point (0.5, ..., 0.5), and Gaussian noise of the same σ is added in
every direction:

    y = 0.5·1 + Q (s(t) − (0.5, 0.5)) + σ ε,   ε ~ N(0, I_D).

Split y − 0.5·1 into its part in Q's plane and the rest: u = Qᵀ(y − 0.5·1) + (0.5, 0.5) is a
2-D spiral point (noise σ in the plane), r = (I − QQᵀ)(y − 0.5·1) is N(0, σ²) noise in the
other D − 2 directions, independent of it, so the density stays exact:

    log p(y) = log p_2(u) − (D − 2)/2 · log(2πσ²) − |r|²/(2σ²).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import DataError
from ..validate import integer, positive_int
from .splits import check_split

CENTRE = 0.5
TURNS = 1.5
R_START, R_END = 0.08, 0.40
NOISE_STD = 0.03
# Quadrature in t: PANELS equal panels of GL_NODES Gauss-Legendre nodes each (1,024 nodes).
# The curve's speed |s'(t)| = sqrt(ρ'² + (ρ·θ')²) is at most sqrt(0.32² + (0.40·3π)²) = 3.78
# per unit t, so a panel spans at most 0.059 of arc length, 2σ.  Along the curve the integrand
# is a Gaussian bump of width σ (down to ~σ/2 for points a few σ outside a tight turn),
# smooth on a panel's scale, which 16 Gauss-Legendre nodes integrate to ~1e-13: 32, 64 and
# 128 panels agree to 1e-13 nats within 20 nats of the peak density and to 2e-10 nats
# (64 vs 128) anywhere on [-0.1, 1.1]² (see the tests).
PANELS = 64
GL_NODES = 16
SPLIT_SIZES = {"train": 10000, "val": 2000, "test": 5000}
SPLIT_SEEDS = {"train": 1, "val": 2, "test": 3}
EMBED_DIMS = (2, 8, 32, 128)   # the registry's spiral-dD
EMBED_SEED = 7                 # seeds Q (D > 2)

_CHUNK = 1 << 22               # (points × nodes) float64 values at once: 32 MB per (chunk, nodes) matrix


def curve(t: torch.Tensor) -> torch.Tensor:
    """s(t): t (...) in [0, 1] -> points (..., 2) on the spiral, same dtype and device as t."""
    rho = R_START + (R_END - R_START) * t
    theta = 2 * math.pi * TURNS * t
    return torch.stack([CENTRE + rho * torch.cos(theta), CENTRE + rho * torch.sin(theta)], dim=-1)


def sample(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n points x = s(t) + ε, t ~ U[0, 1], ε ~ N(0, σ²I): (n, 2) float32 on the generator's device.

    Draws t (n,) first, then ε (n, 2), in float64.
    """
    integer("n", n, low=0)
    device = generator.device if generator is not None else None
    t = torch.rand(n, generator=generator, dtype=torch.float64, device=device)
    eps = torch.randn(n, 2, generator=generator, dtype=torch.float64, device=device)
    return (curve(t) + NOISE_STD * eps).float()


def log_density(x: torch.Tensor, panels: int = PANELS) -> torch.Tensor:
    """log p(x) in nats: x (N, 2) (or (N, 1, 1, 2), as the dataset stores it) -> (N,).

    log p(x) = log Σ_k w_k N(x; s(t_k), σ²I) over composite Gauss-Legendre nodes t_k on [0, 1]
    (``panels`` × GL_NODES of them, weights w_k summing to 1), a log-sum-exp.  Since
    |x − s_k|² = |x|² − 2x·s_k + |s_k|², the sum runs over log w_k − (|s_k|² − 2x·s_k)/(2σ²)
    (one matrix product) and −|x|²/(2σ²) comes out of it.  Float64 on x's device, a chunk
    of points at a time; returned in x's dtype (float64 for a non-float x).
    """
    if not isinstance(x, torch.Tensor):
        raise DataError(f"x: expected a tensor of points (N, 2), got {type(x).__name__}")
    if x.ndim not in (2, 4) or x.shape[-1] != 2 or (x.ndim == 4 and x.shape[1:3] != (1, 1)):
        raise DataError(f"x: expected points of shape (N, 2) or (N, 1, 1, 2), got {tuple(x.shape)}")
    positive_int("panels", panels)
    dtype = x.dtype if x.is_floating_point() else torch.float64
    points = x.reshape(-1, 2).to(torch.float64)
    var = NOISE_STD ** 2
    t, log_w = _gauss_legendre(panels, points.device)
    nodes = curve(t)                                                    # (K, 2)
    bias = log_w - (nodes * nodes).sum(dim=1) / (2 * var)               # (K,)
    nodes_t = nodes.T.contiguous()                                      # (2, K)
    log_norm = -math.log(2 * math.pi * var)                             # log N's constant in 2-D
    out = torch.empty(len(points), dtype=torch.float64, device=points.device)
    chunk = max(1, _CHUNK // len(t))
    for start in range(0, len(points), chunk):
        p = points[start:start + chunk]                                 # (B, 2)
        logits = torch.addmm(bias, p, nodes_t, alpha=1 / var)           # (B, K)
        out[start:start + chunk] = torch.logsumexp(logits, dim=1) - (p * p).sum(dim=1) / (2 * var)
    return (out + log_norm).to(dtype)


def spiral_split(split: str) -> torch.Tensor:
    """One split of the ``spiral`` dataset: (N, 1, 1, 2) float32, N = SPLIT_SIZES[split]."""
    check_split(split)
    g = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    return sample(SPLIT_SIZES[split], g).reshape(-1, 1, 1, 2).contiguous()


def embedding(dim: int) -> torch.Tensor:
    """Q, (dim, 2) float64 with orthonormal columns: the identity for dim 2, else the Q of a QR
    decomposition of a (dim, 2) standard normal matrix drawn from torch.Generator(EMBED_SEED + dim)."""
    dim = _dim(dim)
    if dim == 2:
        return torch.eye(2, dtype=torch.float64)
    g = torch.Generator().manual_seed(EMBED_SEED + dim)
    q, r = torch.linalg.qr(torch.randn(dim, 2, generator=g, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))          # a unique Q: positive diagonal of R


def embed(points: torch.Tensor, dim: int, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Noise-free spiral points s(t), (N, 2) float64, placed in R^dim: 0.5 + Q (s − 0.5) (+ σ·noise, (N, dim))."""
    out = 0.5 + (points - CENTRE) @ embedding(dim).T
    return out if noise is None else out + NOISE_STD * noise


def embedded_log_density(y: torch.Tensor, dim: int) -> torch.Tensor:
    """log p(y) in nats of the spiral embedded in R^dim (module doc): y (N, dim) or (N, 1, 1, dim) -> (N,) float64."""
    dim = _dim(dim)
    if not isinstance(y, torch.Tensor) or y.shape[-1] != dim:
        raise DataError(f"y: expected points of shape (N, {dim}), got "
                        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    centred = y.reshape(-1, dim).to(torch.float64) - 0.5
    q = embedding(dim).to(centred.device)
    plane = centred @ q                                                    # (N, 2) = Qᵀ(y − 0.5)
    rest = centred - plane @ q.T                                           # (N, dim), ⟂ to Q's plane
    var = NOISE_STD ** 2
    other = -(dim - 2) / 2 * math.log(2 * math.pi * var) - (rest * rest).sum(dim=1) / (2 * var)
    return log_density(plane + CENTRE) + other


def embedded_split(split: str, dim: int) -> torch.Tensor:
    """One split of ``spiral-d<dim>``: (N, 1, 1, dim) float32, N = SPLIT_SIZES[split].  Draws t (N,),
    then ε (N, dim), from the split's seed; for dim 2 these are the ``spiral`` split's points."""
    check_split(split)
    dim = _dim(dim)
    g = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    n = SPLIT_SIZES[split]
    t = torch.rand(n, generator=g, dtype=torch.float64)
    eps = torch.randn(n, dim, generator=g, dtype=torch.float64)
    return embed(curve(t), dim, eps).float().reshape(-1, 1, 1, dim).contiguous()


def _dim(dim) -> int:
    return integer("dim", dim, low=2)


def _gauss_legendre(panels: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite Gauss-Legendre on [0, 1]: nodes t (K,), log weights (K,), float64; K = panels·GL_NODES."""
    x, w = np.polynomial.legendre.leggauss(GL_NODES)                    # on [-1, 1], weights sum to 2
    left = np.arange(panels)[:, None] / panels
    t = left + (x + 1) / (2 * panels)                                   # (panels, GL_NODES)
    weights = np.broadcast_to(w / (2 * panels), t.shape)
    return (torch.from_numpy(t.reshape(-1)).to(device),
            torch.from_numpy(np.log(weights).reshape(-1)).to(device))
