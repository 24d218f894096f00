"""Densities of 2-D points on a grid, and held-out log-likelihoods compared against a ceiling.

The lecture's mixture section (``lecture.sections.mixture``) scores three densities of the
same 2-D points: the true one (known exactly), a Gaussian mixture (exact) and a VAE
(importance sampled).  This module evaluates any of them on the cell centres of a square
grid, turns draws into a density per unit area, and compares held-out log-likelihoods.

    square_grid(n)          n×n cell centres of [lo, hi]², rows = y, columns = x
    on_grid(log_prob, g)    log p at every cell centre, (n, n), nats
    grid_mass(log_p, g)     ∫ p over the square by the midpoint rule (≤ 1 for any density)
    histogram_density(x, g) draws -> density per unit area, (n, n)
    mean_and_se(lp)         held-out mean log-likelihood and its standard error
    paired_gap(lp, lp_true) mean of log q(x) − log p(x) over x ~ p: −KL(p‖q) ≤ 0 in expectation
    gaussian_draws(vae, n)  z ~ N(0, I), x ~ p(x|z): draws from the VAE's P(x), not its means
    mean_curve(vae, n)      the decoded means μ(z) at n prior quantiles of a 1-D code: the VAE's curve
    nearest_distance(a, b)  distance from each point of a to the nearest point of b

Points are float (N, 2); a model of the registry's 2-D data takes them as (N, 1, 1, 2),
which the caller's ``log_prob`` reshapes to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ..validate import positive_int

F64 = torch.float64


@dataclass(frozen=True)
class Grid:
    """n×n square cells covering [lo, hi]²; ``points`` (n·n, 2) are their centres, row-major with
    the row index i the y coordinate and the column j the x coordinate, so a value per point
    ``.view(n, n)`` is an image with y upwards (``imshow(origin="lower", extent=extent)``)."""

    n: int
    lo: float
    hi: float
    points: torch.Tensor

    @property
    def cell(self) -> float:
        """Side of one cell (units of x)."""
        return (self.hi - self.lo) / self.n

    @property
    def cell_area(self) -> float:
        """Area of one cell (units of x²): density per unit area × cell_area = probability."""
        return self.cell ** 2

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(left, right, bottom, top), as matplotlib's ``imshow`` takes it."""
        return (self.lo, self.hi, self.lo, self.hi)


def square_grid(n: int, lo: float = 0.0, hi: float = 1.0, device=None, dtype=torch.float32) -> Grid:
    """The centres of n×n equal square cells covering [lo, hi]²: ``Grid`` with points (n·n, 2)."""
    positive_int("n", n)
    if not hi > lo:
        raise ValueError(f"the grid needs lo < hi; got lo={lo}, hi={hi}")
    cell = (hi - lo) / n
    c = lo + cell * (torch.arange(n, dtype=F64, device=device) + 0.5)      # (n,)
    y, x = torch.meshgrid(c, c, indexing="ij")                              # (n, n) each
    return Grid(n, float(lo), float(hi), torch.stack([x.flatten(), y.flatten()], 1).to(dtype))


@torch.no_grad()
def on_grid(log_prob: Callable[[torch.Tensor], torch.Tensor], grid: Grid, batch_size: int = 4096) -> torch.Tensor:
    """log p at each cell centre: (n, n) float64 on the CPU, nats (row i = y, column j = x).

    log_prob: points (B, 2) -> (B,) log density in nats per unit area, called on blocks of at
    most ``batch_size`` points (the grid's dtype and device).
    """
    positive_int("batch_size", batch_size)
    blocks = [log_prob(grid.points[i:i + batch_size]).to("cpu", F64).reshape(-1)
              for i in range(0, len(grid.points), batch_size)]
    out = torch.cat(blocks)
    if len(out) != len(grid.points):
        raise ValueError(f"log_prob must return one value per point; got {len(out)} for {len(grid.points)}")
    return out.view(grid.n, grid.n)


def grid_mass(log_p: torch.Tensor, grid: Grid) -> float:
    """∫ p over the grid's square by the midpoint rule, Σ exp(log p)·cell area (a probability).

    log_p: (n, n) from ``on_grid``.  At most 1 (up to the rule's error) for any density; about 1
    when the density's mass lies inside the square.  For an importance-sampled log p, exp(log p)
    is an unbiased estimate of p, so this is an unbiased estimate of the mass.
    """
    return (log_p.double().logsumexp(dim=(0, 1)) + math.log(grid.cell_area)).exp().item()


def histogram_density(x: torch.Tensor, grid: Grid) -> torch.Tensor:
    """Draws x (N, 2) -> their density per unit area on the grid's cells, (n, n) float64 on the CPU.

    count in cell / (N · cell area): draws outside the square count in N but in no cell, so the
    result sums (× cell area) to the fraction of draws inside.  Cells are half-open [a, b),
    the last one closed at ``hi``.
    """
    x = x.detach().to("cpu", F64).reshape(-1, 2)
    n = grid.n
    ij = torch.floor((x - grid.lo) / grid.cell).long()                     # (N, 2): column, row
    ij = torch.where(x == grid.hi, n - 1, ij)                              # the top/right edges
    inside = ((ij >= 0) & (ij < n)).all(1)
    index = ij[inside, 1] * n + ij[inside, 0]                              # row-major, row = y
    counts = torch.bincount(index, minlength=n * n).to(F64)
    return (counts / (max(len(x), 1) * grid.cell_area)).view(n, n)


def mean_and_se(log_px: torch.Tensor) -> tuple[float, float]:
    """Held-out log-likelihoods (N,) nats per example -> (mean, standard error of the mean), nats."""
    v = log_px.detach().double().reshape(-1)
    if len(v) < 2:
        raise ValueError(f"the standard error needs at least 2 examples; got {len(v)}")
    return v.mean().item(), (v.std() / math.sqrt(len(v))).item()


def paired_gap(log_q: torch.Tensor, log_p: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error of log q(x) − log p(x) over the same held-out x (N,), nats per example.

    With x drawn from p, the mean estimates −KL(p‖q) ≤ 0: no model q beats the true density p
    on average.  Pairing removes the spread of log p(x) between examples, so the standard error
    is far smaller than that of either mean: a positive gap beyond about 2 standard errors
    means a bug (or a very unlucky test set).
    """
    if log_q.shape != log_p.shape:
        raise ValueError(f"log_q and log_p must be scores of the same examples; got shapes "
                         f"{tuple(log_q.shape)} and {tuple(log_p.shape)}")
    return mean_and_se(log_q.double() - log_p.double())


@torch.no_grad()
def gaussian_draws(model, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n draws from a VAE's P(x): z ~ N(0, I), x = mean(z) + std(z)·ε, ε ~ N(0, I); (n, C, H, W).

    ``VAE.sample`` returns the means E[x|z]; these are draws of x itself, so their histogram
    is the model's density (for a Gaussian p(x|z)).  z is drawn first, then ε, from
    ``generator`` (on the model's device).
    """
    positive_int("n", n)
    if model.likelihood != "gaussian":
        raise ValueError(f"gaussian_draws needs a Gaussian p(x|z); this model's likelihood is {model.likelihood!r}")
    device = next(model.parameters()).device
    z = torch.randn(n, model.latent_dim, generator=generator, device=device)
    p = model.decode(z)
    eps = torch.randn(p.mean.shape, generator=generator, device=device, dtype=p.mean.dtype)
    return p.mean + p.stddev * eps


@torch.no_grad()
def mean_curve(model, n: int = 200) -> torch.Tensor:
    """The decoded means μ(z) of a 1-D code at the prior's n quantiles z_i = Φ⁻¹((i + ½)/n): (n, C, H, W).

    Each point stands for the same prior mass 1/n, so the points are as dense along the curve as
    the model puts its mixture components (the infinite mixture's means, in order of z).
    """
    positive_int("n", n)
    if model.latent_dim != 1:
        raise ValueError(f"mean_curve needs a 1-D code; this model's latent has {model.latent_dim} dimensions")
    device = next(model.parameters()).device
    q = (torch.arange(n, dtype=F64, device=device) + 0.5) / n
    z = torch.distributions.Normal(0.0, 1.0).icdf(q).float().unsqueeze(1)      # (n, 1)
    return model.decode(z).mean


def nearest_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance from each point of a (N, D) to its nearest point of b (M, D): (N,) float64.

    Computed as one (N, M) matrix of distances: for a few thousand points each.
    """
    a, b = a.detach().double().flatten(1), b.detach().double().flatten(1).to(a.device)
    if a.shape[1] != b.shape[1] or len(b) == 0:
        raise ValueError(f"a and b must be points of the same dimension, b not empty; got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    return torch.cdist(a, b).min(1).values
