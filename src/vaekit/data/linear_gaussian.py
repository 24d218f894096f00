"""Data from a linear-Gaussian model (probabilistic PCA), whose exact log p(x) is known.

    z ~ N(0, I_L),   x = W z + b + ε,   ε ~ N(0, s² I_D),   so   x ~ N(b, W Wᵀ + s² I_D)

with D = DIM = 16, L = LATENT = 2, s = NOISE_STD = 0.1.  W = Q·diag(SCALES) = Q·diag(1.0, 0.5)
with Q (D, L) orthonormal columns, and b (D,) ~ N(0, OFFSET_STD²), both drawn once from
torch.Generator(PARAMETER_SEED) (``parameters``).  The data varies along two directions of
standard deviation sqrt(1.0² + s²) and sqrt(0.5² + s²), and by s in the 14 others.

This module is the data and its exact density.  The exact log p(x) of a *trained* linear
VAE fitted to it (the lecture's third example) belongs to the model code, not here.

Registry dataset ``linear-gaussian``: float32 "images" (N, 1, 1, 16), one row of the 16
coordinates; splits train 5,000, val 1,000, test 2,000, each drawn with its own seed
(SPLIT_SEEDS).
"""

from __future__ import annotations

import torch
from torch.distributions import MultivariateNormal

from ..errors import DataError
from ..validate import integer
from .splits import check_split

DIM = 16
LATENT = 2
NOISE_STD = 0.1
SCALES = (1.0, 0.5)            # column norms of W: the two latent directions' scales
OFFSET_STD = 0.5               # b ~ N(0, OFFSET_STD² I)
PARAMETER_SEED = 0
SPLIT_SIZES = {"train": 5000, "val": 1000, "test": 2000}
SPLIT_SEEDS = {"train": 1, "val": 2, "test": 3}


def parameters() -> tuple[torch.Tensor, torch.Tensor]:
    """W (D, L) and b (D,), float64 on the CPU: the same on every call and machine.

    From torch.Generator(PARAMETER_SEED): a (D, L) standard normal matrix, whose QR
    factorisation gives Q (signs fixed so that diag(R) > 0), then b.  W = Q·diag(SCALES).
    """
    g = torch.Generator().manual_seed(PARAMETER_SEED)
    q, r = torch.linalg.qr(torch.randn(DIM, LATENT, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))                               # the unique Q with diag(R) > 0
    b = OFFSET_STD * torch.randn(DIM, generator=g, dtype=torch.float64)
    return q * torch.tensor(SCALES, dtype=torch.float64), b


def covariance() -> torch.Tensor:
    """W Wᵀ + s² I: (D, D) float64, the covariance of x."""
    w, _ = parameters()
    return w @ w.T + NOISE_STD ** 2 * torch.eye(DIM, dtype=torch.float64)


def distribution(device: str | torch.device | None = None) -> MultivariateNormal:
    """The exact p(x) = N(b, W Wᵀ + s² I), float64, on ``device`` (default CPU)."""
    _, b = parameters()
    return MultivariateNormal(b.to(device), covariance_matrix=covariance().to(device))


def exact_log_prob(x: torch.Tensor) -> torch.Tensor:
    """log p(x) in nats, every constant kept: x (N, D) or (N, 1, 1, D) -> (N,).

    Float64 inside, on x's device; returned in x's dtype (float64 for a non-float x).
    """
    if not isinstance(x, torch.Tensor):
        raise DataError(f"x: expected a tensor (N, {DIM}), got {type(x).__name__}")
    if x.ndim not in (2, 4) or x.shape[-1] != DIM or (x.ndim == 4 and x.shape[1:3] != (1, 1)):
        raise DataError(f"x: expected shape (N, {DIM}) or (N, 1, 1, {DIM}), got {tuple(x.shape)}")
    dtype = x.dtype if x.is_floating_point() else torch.float64
    points = x.reshape(-1, DIM).to(torch.float64)
    return distribution(points.device).log_prob(points).to(dtype)


def sample(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n draws x = W z + b + ε: (n, D) float32 on the generator's device.

    Draws z (n, L) first, then ε (n, D), in float64.
    """
    integer("n", n, low=0)
    device = generator.device if generator is not None else None
    w, b = (p.to(device) for p in parameters())
    z = torch.randn(n, LATENT, generator=generator, dtype=torch.float64, device=device)
    eps = torch.randn(n, DIM, generator=generator, dtype=torch.float64, device=device)
    return (z @ w.T + b + NOISE_STD * eps).float()


def linear_gaussian_split(split: str) -> torch.Tensor:
    """One split of the ``linear-gaussian`` dataset: (N, 1, 1, D) float32, N = SPLIT_SIZES[split]."""
    check_split(split)
    g = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    return sample(SPLIT_SIZES[split], g).reshape(-1, 1, 1, DIM).contiguous()
