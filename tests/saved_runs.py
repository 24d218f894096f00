"""Checks every trained VAE run must pass after a round trip through its run directory."""

import pytest
import torch

import vaekit


def reload_sample_evaluate(run_dir, model, latent_dim: int) -> dict:
    """``vaekit.load(run_dir)`` gives ``model``'s log p(z), sensible samples and an eval report whose
    parts add up and whose log p(x) is above its ELBO (up to noise); returns that report (50 digits, k = 100)."""
    loaded = vaekit.load(run_dir)
    z = torch.randn(10, latent_dim)
    torch.testing.assert_close(loaded.log_prior(z), model.log_prior(z))
    samples = loaded.sample(6, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (6, 1, 8, 8) and 0 <= samples.min() and samples.max() <= 1
    x = vaekit.data.load("digits", "test").model_input("bernoulli")[:50]
    report = vaekit.eval.evaluate(loaded, x, k=100)
    assert report["elbo"] == pytest.approx(report["recon"] - report["kl"])
    assert report["log_px"] >= report["elbo"] - 0.5
    return report
