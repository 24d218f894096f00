"""The spiral's exact density: it integrates to 1, its quadrature has converged, it agrees
with scipy's adaptive quadrature, and the sampler draws from it; the registry's ``spiral``."""

import math

import numpy as np
import pytest
import torch

from vaekit.data import load
from vaekit.data.registry import default_likelihood, uses_data_dir
from vaekit.data.spiral import CENTRE, NOISE_STD, PANELS, R_END, R_START, TURNS, curve, log_density, sample
from vaekit.errors import ConfigError, DataError

STEP = 0.006                                            # grid spacing, σ/5
BOX = torch.arange(-0.1, 1.1 + STEP / 2, STEP, dtype=torch.float64)   # the curve ± 6σ and more


@pytest.fixture(scope="module")
def grid():
    """log p on a (201, 201) grid over [-0.1, 1.1]²: points (201², 2), log p (201, 201)."""
    xs, ys = torch.meshgrid(BOX, BOX, indexing="ij")
    points = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    return points, log_density(points).reshape(len(BOX), len(BOX))


def test_density_integrates_to_one(grid):
    _, log_p = grid
    mass = torch.trapezoid(torch.trapezoid(log_p.exp(), dx=STEP), dx=STEP)
    assert abs(mass.item() - 1) < 1e-3


def test_quadrature_has_converged(grid):
    points, log_p = grid
    # twice the panels: the same log p everywhere on the grid (every 3rd point), even 300 nats
    # out; half of them: the same within 40 nats of the peak
    log_p = log_p.reshape(-1)
    every = slice(None, None, 3)
    assert (log_density(points[every], 2 * PANELS) - log_p[every]).abs().max() < 1e-8
    near = log_p > log_p.max() - 40
    assert (log_density(points[near], PANELS // 2) - log_p[near]).abs().max() < 1e-8


def spiral_numpy(t):
    """s(t) written again, in numpy: (..., 2)."""
    rho = R_START + (R_END - R_START) * t
    theta = 2 * np.pi * TURNS * t
    return np.stack([CENTRE + rho * np.cos(theta), CENTRE + rho * np.sin(theta)], axis=-1)


def scipy_log_density(x: np.ndarray) -> float:
    """log ∫₀¹ N(x; s(t), σ²I) dt by scipy's adaptive quadrature (QUADPACK), with the bump at
    the nearest curve point scaled to 1 so that far points do not underflow."""
    from scipy.integrate import quad

    var = NOISE_STD ** 2
    t = np.linspace(0, 1, 20001)
    sq = ((spiral_numpy(t) - x) ** 2).sum(axis=1)
    peak = sq.min()

    def bump(u):
        return math.exp(-(((spiral_numpy(u) - x) ** 2).sum() - peak) / (2 * var))

    value, _ = quad(bump, 0, 1, points=[t[sq.argmin()]], limit=500, epsabs=0, epsrel=1e-12)
    return math.log(value) - peak / (2 * var) - math.log(2 * math.pi * var)


def test_curve():
    t = torch.linspace(0, 1, 101, dtype=torch.float64)
    np.testing.assert_allclose(curve(t).numpy(), spiral_numpy(t.numpy()), rtol=0, atol=1e-15)
    s = curve(t)
    assert s.min() > 0 and s.max() < 1                                  # inside the unit square


def test_matches_scipy_quad():
    fixed = [curve(torch.tensor(0.3, dtype=torch.float64)).tolist(),   # on the curve
             [0.5, 0.5],                                                # the centre, inside the first turn
             [0.5 + 0.29, 0.5],                                         # between two arms
             curve(torch.tensor(1.0, dtype=torch.float64)).tolist(),   # the outer end
             [0.0, 0.0], [1.05, 0.95]]                                  # far out
    drawn = sample(10, torch.Generator().manual_seed(7)).double().tolist()
    x = torch.tensor(fixed + drawn, dtype=torch.float64)
    expected = torch.tensor([scipy_log_density(np.array(p)) for p in x.tolist()], dtype=torch.float64)
    torch.testing.assert_close(log_density(x), expected, rtol=1e-9, atol=1e-9)


def test_samples_follow_the_density(grid):
    # E[log p(x)] two ways: a Monte-Carlo mean over the sampler's draws, and ∫ p log p on the grid
    _, log_p = grid
    expected = torch.trapezoid(torch.trapezoid(log_p.exp() * log_p, dx=STEP), dx=STEP).item()
    x = sample(20000, torch.Generator().manual_seed(0))
    values = log_density(x.double())
    stderr = values.std().item() / math.sqrt(len(values))
    assert abs(values.mean().item() - expected) < 4 * stderr


def test_sample_is_seeded():
    a = sample(100, torch.Generator().manual_seed(1))
    assert a.shape == (100, 2) and a.dtype == torch.float32
    assert torch.equal(a, sample(100, torch.Generator().manual_seed(1)))
    assert not torch.equal(a, sample(100, torch.Generator().manual_seed(2)))


def test_log_density_shapes_and_errors():
    x = sample(5, torch.Generator().manual_seed(3))
    assert log_density(x).dtype == torch.float32
    torch.testing.assert_close(log_density(x.reshape(5, 1, 1, 2)), log_density(x))
    with pytest.raises(DataError, match=r"x: expected points of shape \(N, 2\) or \(N, 1, 1, 2\), got \(5, 3\)"):
        log_density(torch.zeros(5, 3))
    with pytest.raises(ConfigError, match=r"^panels must be a positive integer; got 0$"):
        log_density(x, panels=0)


def test_registry_spiral():
    sizes = {}
    for split in ("train", "val", "test"):
        ds = load("spiral", split)
        sizes[split] = len(ds)
        assert ds.images.shape[1:] == (1, 1, 2) and ds.images.dtype == torch.float32 and ds.labels is None
        assert ds.continuous and ds.images.is_contiguous()
    assert sizes == {"train": 10000, "val": 2000, "test": 5000}
    val = load("spiral", "val")
    assert torch.equal(val.images, load("spiral", "val").images)
    assert not torch.equal(val.images, load("spiral", "test").images[:2000])
    assert torch.equal(val.model_input("gaussian"), val.images)
    assert default_likelihood("spiral") == "gaussian" and not uses_data_dir("spiral")
    with pytest.raises(DataError, match=r"image_size: spiral is points of shape \(1, 1, 2\), not images"):
        load("spiral", "val", image_size=28)


# ---------------------------------------------------------------- the spiral in D dimensions

def test_embedding_is_orthonormal_and_fixed():
    from vaekit.data.spiral import embedding

    assert torch.equal(embedding(2), torch.eye(2, dtype=torch.float64))
    for d in (8, 32, 128):
        q = embedding(d)
        assert q.shape == (d, 2) and torch.allclose(q.T @ q, torch.eye(2, dtype=torch.float64), atol=1e-12)
        assert torch.equal(q, embedding(d))


def test_embedded_density_integrates_to_one_in_2d_and_matches_the_plane():
    from vaekit.data.spiral import embedded_log_density, log_density

    n = 400                                           # midpoint rule on [-0.2, 1.2]², cells of 0.0035 < σ/8
    c = -0.2 + 1.4 * (torch.arange(n, dtype=torch.float64) + 0.5) / n
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    mass = embedded_log_density(points, 2).exp().sum().item() * (1.4 / n) ** 2
    assert mass == pytest.approx(1.0, abs=1e-4)
    assert torch.allclose(embedded_log_density(points[:50], 2), log_density(points[:50]), atol=1e-12)


def test_orthogonal_embedding_keeps_the_exact_log_density():
    """In D dims, log p(y) = log p_2(plane part) + the other D − 2 directions' Gaussian noise: checked
    against a direct evaluation with a rotation that completes Q to a basis of R^D."""
    from vaekit.data.spiral import NOISE_STD, embed, embedded_log_density, embedding, log_density

    d = 8
    g = torch.Generator().manual_seed(5)
    q = embedding(d)
    full, _ = torch.linalg.qr(torch.cat([q, torch.randn(d, d - 2, generator=g, dtype=torch.float64)], 1))
    full[:, :2] = q           # QR's first two columns are ±Q's; the others span the rest of R^D
    y = 0.5 + 0.3 * torch.randn(20, d, generator=g, dtype=torch.float64)
    coords = (y - 0.5) @ full                                        # an orthonormal basis: (plane, rest)
    rest = coords[:, 2:]
    direct = (log_density(coords[:, :2] + 0.5)
              + torch.distributions.Normal(0.0, NOISE_STD).log_prob(rest).sum(1))
    assert torch.allclose(embedded_log_density(y, d), direct, atol=1e-9)
    # a point on the embedded curve is as likely as its plane image times the noise density at 0
    s = curve(torch.tensor([0.3], dtype=torch.float64))
    top = embedded_log_density(embed(s, d), d) - log_density(s)
    assert top.item() == pytest.approx(-(d - 2) / 2 * math.log(2 * math.pi * NOISE_STD ** 2), abs=1e-9)


def test_embedded_splits():
    from vaekit.data import load

    assert torch.equal(load("spiral-d2", "val").images, load("spiral", "val").images)
    y = load("spiral-d32", "test").images
    assert y.shape == (5000, 1, 1, 32) and y.dtype == torch.float32
    assert load("spiral-d32", "test").images.equal(y)
