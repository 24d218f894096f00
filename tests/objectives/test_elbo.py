import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

import known_models
from vaekit.models.vae import log_normal
from vaekit.objectives import elbo_terms, kl_standard_normal, negative_elbo, reparameterize
from vaekit.objectives.elbo import reparameterize_with_log_q


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(64, 10, generator=g) * 2
    log_var = torch.randn(64, 10, generator=g) * 1.5
    ours = kl_standard_normal(m, log_var)
    ref = kl_divergence(Normal(m, torch.exp(0.5 * log_var)), Normal(0.0, 1.0))
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_kl_is_lecture_formula_and_zero_only_at_prior():
    # The lecture's exp(σ) − (1 + σ) is minimal (zero) at σ = 0, i.e. variance 1.
    sigma = torch.linspace(-3, 3, 61)
    kl = kl_standard_normal(torch.zeros_like(sigma), sigma)
    assert torch.allclose(kl, 0.5 * (torch.exp(sigma) - (1 + sigma)))
    assert kl.argmin() == 30 and kl[30] == 0


def test_reparameterisation_moments_use_std_exp_half_sigma():
    m = torch.tensor([[1.0, -2.0, 0.5]])
    log_var = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]])   # variances 1, 4, 0.25
    g = torch.Generator().manual_seed(0)
    z = reparameterize(m, log_var, g, samples=200_000)               # (S, 1, 3)
    torch.testing.assert_close(z.mean(0), m, atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), log_var.exp(), atol=0.03, rtol=0.02)


def test_reparameterisation_passes_gradients():
    m = torch.zeros(4, 2, requires_grad=True)
    log_var = torch.zeros(4, 2, requires_grad=True)
    reparameterize(m, log_var, torch.Generator().manual_seed(0)).sum().backward()
    assert torch.all(m.grad == 1) and torch.all(log_var.grad != 0)


def test_draws_with_their_log_q_are_the_same_draws_scored_by_normal():
    g = torch.Generator().manual_seed(0)
    m, log_var = torch.randn(16, 5, generator=g) * 2, torch.randn(16, 5, generator=g)
    z, log_q = reparameterize_with_log_q(m, log_var, torch.Generator().manual_seed(1), samples=7)
    assert z.shape == (7, 16, 5) and log_q.shape == (7, 16)
    torch.testing.assert_close(z, reparameterize(m, log_var, torch.Generator().manual_seed(1), samples=7))
    ref = Normal(m, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)
    torch.testing.assert_close(log_q, ref, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(log_normal(z, m, log_var), ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("q_shift, q_log_scale", [(0.0, 0.0), (0.7, 0.5), (-0.5, -0.8)])
def test_elbo_below_exact_log_px_linear_gaussian(q_shift, q_log_scale):
    model = known_models.LinearGaussian(q_shift=q_shift, q_log_scale=q_log_scale)
    x = model.sample_x(256)
    exact = model.exact_log_px(x)
    g = torch.Generator().manual_seed(0)
    # average many one-sample ELBO estimates to get E_q[log p(x|z)] - KL accurately
    elbos = torch.stack([(lambda r, k: r - k.sum(-1))(*elbo_terms(model, x, g)) for _ in range(400)]).mean(0)
    if q_shift == 0 and q_log_scale == 0:   # exact posterior: the bound is tight
        # equal in expectation; what is left is Monte Carlo noise of the 400-sample average
        assert abs((elbos - exact).mean()) < 0.02
        torch.testing.assert_close(elbos, exact, atol=0.3, rtol=0)
    else:
        assert torch.all(elbos < exact)
        assert (exact - elbos).mean() > 0.1


def test_free_bits_charges_at_least_lambda_per_dim():
    model = known_models.LinearGaussian()
    x = model.sample_x(32)
    g = torch.Generator().manual_seed(0)
    loss, recon, kl = negative_elbo(model, x, generator=g, free_bits=5.0)
    torch.testing.assert_close(loss, -recon + 5.0 * model.latent_dim)
