"""The log p(x) estimator and the IWAE bound against a model whose log p(x) is known exactly."""

import math

import torch

import known_models
from vaekit.eval import evaluate, log_px
from vaekit.objectives import elbo_terms, iwae_bound, log_weights


def test_exact_posterior_gives_exact_log_px_for_any_k():
    model = known_models.LinearGaussian()
    x = model.sample_x(50)
    exact = model.exact_log_px(x)
    for k in (1, 7, 300):
        est = log_px(model, x, k=k, batch_size=16, generator=torch.Generator().manual_seed(k))
        torch.testing.assert_close(est, exact, rtol=0, atol=1e-9)


def test_poor_q_is_below_and_converges_as_k_grows():
    model = known_models.LinearGaussian(q_shift=0.6, q_log_scale=0.4)
    x = model.sample_x(100)
    exact = model.exact_log_px(x)
    gaps = []
    for k in (1, 10, 100, 3000):
        est = log_px(model, x, k=k, batch_size=25, generator=torch.Generator().manual_seed(0), max_rows=4096)
        gaps.append((exact - est).mean().item())
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3] >= -0.01
    assert gaps[0] > 0.3 and gaps[3] < 0.05


def test_elbo_below_log_px_and_report_gap():
    model = known_models.LinearGaussian(q_shift=0.3, q_log_scale=0.2)   # a wider q keeps the weights light-tailed
    x = model.sample_x(200)
    report = evaluate(model, x, k=2000, batch_size=50, seed=0)
    exact = model.exact_log_px(x).mean().item()
    assert report["elbo"] < report["log_px"] <= exact + 3 * report["log_px_se"]
    assert abs(report["log_px"] - exact) < 0.05
    assert math.isclose(report["gap"], report["log_px"] - report["elbo"])
    assert math.isclose(report["elbo"], report["recon"] - report["kl"])
    assert math.isclose(sum(report["kl_per_dim"]), report["kl"], rel_tol=1e-9)
    assert report["active_units"] == 3 == report["latent_dim"] and report["n"] == 200 and report["k"] == 2000
    # deterministic for a seed
    assert evaluate(model, x, k=50, seed=3)["log_px"] == evaluate(model, x, k=50, seed=3)["log_px"]


def test_iwae_k1_equals_elbo_and_bound_rises_with_k():
    model = known_models.LinearGaussian(q_shift=0.8, q_log_scale=0.5)
    x = model.sample_x(40)
    g = torch.Generator().manual_seed(0)
    m, log_var = model.encode(x)
    # analytic ELBO, averaged over many one-sample reconstruction estimates
    recon = torch.stack([elbo_terms(model, x, g)[0] for _ in range(4000)]).mean(0)
    _, kl = elbo_terms(model, x, g)
    elbo = recon - kl.sum(-1)
    # L_1 = E[log w] with w = p(x, z)/q(z|x): the same quantity with a Monte Carlo KL
    l1 = torch.stack([iwae_bound(log_weights(model, x, 1, g)) for _ in range(4000)]).mean(0)
    assert abs((l1 - elbo).mean()) < 0.03   # equal in expectation; Monte Carlo error ~0.01
    bounds = [torch.stack([iwae_bound(log_weights(model, x, k, g)) for _ in range(200)]).mean().item()
              for k in (1, 5, 50)]
    assert bounds[0] < bounds[1] < bounds[2] < model.exact_log_px(x).mean().item()


def test_iwae_k1_is_elbo_sample_by_sample():
    # with the same draw z, log w = log p(x|z) + log p(z) - log q(z|x) exactly
    model = known_models.LinearGaussian(q_shift=0.5)
    x = model.sample_x(8)
    m, log_var = model.encode(x)
    lw = log_weights(model, x, 1, torch.Generator().manual_seed(5))[0]
    z = m + torch.exp(0.5 * log_var) * torch.randn((1, *m.shape), generator=torch.Generator().manual_seed(5),
                                                     dtype=m.dtype)[0]
    log_q = torch.distributions.Normal(m, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) + model.decode(z).log_prob(x)
    torch.testing.assert_close(iwae_bound(lw.unsqueeze(0)), log_p - log_q)


def test_evaluate_rejects_bad_data_with_one_line_errors():
    import pytest

    from vaekit.errors import VaekitError
    from vaekit.models import ModelConfig, build_model

    model = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2))
    x = torch.rand(6, 1, 4, 4).round()
    bad = x.clone()
    bad[2, 0, 1, 1] = float("nan")
    with pytest.raises(VaekitError, match="the data holds 1 NaN or infinite values"):
        evaluate(model, bad, k=3)
    with pytest.raises(VaekitError, match=r"a bernoulli likelihood needs data in \[0, 1\]"):
        evaluate(model, x * 3, k=3)
    with pytest.raises(VaekitError, match=r"expects images of shape \(1, 4, 4\)"):
        evaluate(model, torch.rand(6, 1, 5, 5), k=3)
    with pytest.raises(VaekitError, match="^k must be a positive integer; got 0$"):
        evaluate(model, x, k=0)
    ae = build_model(ModelConfig(kind="ae", image_shape=(1, 4, 4), hidden=(8,), latent=2))
    with pytest.raises(VaekitError, match="plain autoencoder"):
        evaluate(ae, x, k=3)


def test_evaluate_reports_an_exact_density_as_is():
    from vaekit.models.gmm import GaussianMixture, GMMConfig

    x = torch.rand(300, 1, 2, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    gmm = GaussianMixture(GMMConfig(3, "diag", (1, 2, 3))).fit(x, generator=torch.Generator().manual_seed(0))
    report = evaluate(gmm, x, k=7)
    assert report["log_px"] == gmm.log_prob(x).mean().item()
    assert report["elbo"] is report["gap"] is report["k"] is report["active_units"] is report["latent_dim"] is None
    assert report["kl_per_dim"] == [] and report["n"] == 300


def test_chunked_log_sum_exp_equals_the_one_shot_bound():
    from vaekit.models import ModelConfig, build_model

    model = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=3), seed=0).eval()
    x = (torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    # 50 samples in chunks of 2 (max_rows 12 over 6 examples): the running max and sum must give
    # the log-sum-exp of all 50 weights at once (the same draws, chunk by chunk)
    chunked = log_px(model, x, k=50, batch_size=6, max_rows=12, generator=torch.Generator().manual_seed(3))
    g, encoded = torch.Generator().manual_seed(3), model.encode(x)
    whole = iwae_bound(torch.cat([log_weights(model, x, 2, g, encoded) for _ in range(25)]))
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=1e-5)
