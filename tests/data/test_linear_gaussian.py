"""Linear-Gaussian (probabilistic PCA) data: its parameters, its exact log p(x) against scipy,
its sampler against the covariance and entropy it should have; the registry's ``linear-gaussian``."""

import math

import pytest
import torch

from vaekit.data import load
from vaekit.data.linear_gaussian import (DIM, NOISE_STD, covariance, distribution, exact_log_prob,
                                         parameters, sample)
from vaekit.data.registry import default_likelihood, uses_data_dir
from vaekit.errors import DataError


def test_parameters():
    w, b = parameters()
    assert w.shape == (16, 2) and b.shape == (16,) and w.dtype == b.dtype == torch.float64
    torch.testing.assert_close(w.T @ w, torch.diag(torch.tensor([1.0, 0.25], dtype=torch.float64)))
    w2, b2 = parameters()
    assert torch.equal(w, w2) and torch.equal(b, b2)
    torch.testing.assert_close(covariance(), w @ w.T + 0.01 * torch.eye(16, dtype=torch.float64))
    assert NOISE_STD == 0.1 and DIM == 16


def test_exact_log_prob_matches_scipy():
    from scipy.stats import multivariate_normal

    _, b = parameters()
    x = sample(50, torch.Generator().manual_seed(0)).double()
    x = torch.cat([x, b[None], b[None] + 3.0])                          # and the mode, and a far point
    expected = multivariate_normal(mean=b.numpy(), cov=covariance().numpy()).logpdf(x.numpy())
    torch.testing.assert_close(exact_log_prob(x), torch.from_numpy(expected), rtol=1e-10, atol=1e-10)


def test_exact_log_prob_shapes_and_errors():
    x = sample(4, torch.Generator().manual_seed(1))
    assert exact_log_prob(x).shape == (4,) and exact_log_prob(x).dtype == torch.float32
    torch.testing.assert_close(exact_log_prob(x.reshape(4, 1, 1, 16)), exact_log_prob(x))
    with pytest.raises(DataError, match=r"x: expected shape \(N, 16\) or \(N, 1, 1, 16\), got \(4, 15\)"):
        exact_log_prob(torch.zeros(4, 15))


def test_samples_have_the_model_moments():
    x = sample(100_000, torch.Generator().manual_seed(2)).double()
    _, b = parameters()
    assert (x.mean(dim=0) - b).abs().max() < 0.015                     # ~4 standard errors of the widest mean
    assert (torch.cov(x.T) - covariance()).abs().max() < 0.02
    # E[log p(x)] = −H[N(b, Σ)]: a Monte-Carlo mean against the Gaussian's entropy
    values = exact_log_prob(x)
    stderr = values.std().item() / math.sqrt(len(values))
    assert abs(values.mean().item() + distribution().entropy().item()) < 4 * stderr


def test_sample_is_seeded():
    a = sample(10, torch.Generator().manual_seed(3))
    assert a.shape == (10, 16) and a.dtype == torch.float32
    assert torch.equal(a, sample(10, torch.Generator().manual_seed(3)))
    assert not torch.equal(a, sample(10, torch.Generator().manual_seed(4)))


def test_registry_linear_gaussian():
    sizes = {}
    for split in ("train", "val", "test"):
        ds = load("linear-gaussian", split)
        sizes[split] = len(ds)
        assert ds.images.shape[1:] == (1, 1, 16) and ds.images.dtype == torch.float32 and ds.labels is None
    assert sizes == {"train": 5000, "val": 1000, "test": 2000}
    val = load("linear-gaussian", "val")
    assert torch.equal(val.images, load("linear-gaussian", "val").images)
    assert not torch.equal(val.images, load("linear-gaussian", "test").images[:1000])
    assert torch.equal(val.model_input("gaussian"), val.images)
    assert default_likelihood("linear-gaussian") == "gaussian" and not uses_data_dir("linear-gaussian")
    assert load("linear-gaussian", "val", image_size=(1, 16)).images.shape == (1000, 1, 1, 16)
    with pytest.raises(DataError, match=r"image_size: linear-gaussian is points of shape \(1, 1, 16\)"):
        load("linear-gaussian", "val", image_size=8)
