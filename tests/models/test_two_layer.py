"""Two stochastic layers (the IWAE paper's hierarchy): known answers for the linear model, and its use."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal

import vaekit
from vaekit.errors import ConfigError, VaekitError
from vaekit.eval.likelihood import log_px
from vaekit.models import VAE, ModelConfig, build_model
from vaekit.models.posteriors import TwoLayerGaussian
from vaekit.models.priors import HierarchicalPrior
from vaekit.objectives import log_weights
from vaekit.train import TrainConfig, fit
from vaekit.train.handwritten_step import handwritten_step_reason

from saved_runs import reload_sample_evaluate


def linear_two_layer(seed=0):
    """A linear-Gaussian two-layer model on 6-D points, z1 of 3, z2 of 2, weights moved off their init."""
    model = build_model(ModelConfig(arch="linear", image_shape=(1, 1, 6), latent=3, likelihood="gaussian",
                                    stochastic_layers=2, latent2=2), seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.4 * torch.randn(p.shape, generator=g))
    x = torch.randn(40, 1, 1, 6, generator=g) * 1.5
    return model, x


def test_the_linear_two_layer_model_has_the_gaussian_marginal():
    """x = W z1 + b + s ε, z1 = C z2 + e + D^½ η, z2 ~ N(0, I): p(x) = N(W e + b, W (C Cᵀ + D) Wᵀ + s² I),
    written out with a dense covariance here, against exact_log_prob's low-rank form."""
    model, x = linear_two_layer()
    w, b = model.decoder.mean.weight.double(), model.decoder.mean.bias.double()
    c, e = model.prior.conditional.mean.weight.double(), model.prior.conditional.mean.bias.double()
    d = torch.diag(torch.exp(model.prior.conditional.log_var.double()))
    s2 = torch.exp(model.decoder.log_var.double())
    cov = w @ (c @ c.T + d) @ w.T + s2 * torch.eye(6, dtype=torch.float64)
    want = MultivariateNormal(w @ e + b, cov).log_prob(x.flatten(1).double())
    torch.testing.assert_close(model.exact_log_prob(x).double(), want, rtol=0, atol=1e-4)
    assert model.has_exact_log_prob and isinstance(model.prior, HierarchicalPrior)
    assert isinstance(model.posterior, TwoLayerGaussian)


def test_the_densities_are_the_hierarchy_s():
    """log q(z|x) = log q(z1|x) + log q(z2|z1) and log p(z) = log N(z2; 0, I) + log p(z1|z2), term by term."""
    model, x = linear_two_layer()
    m, log_var = model.encode(x)
    assert m.shape == log_var.shape == (40, 5) and model.latent_dim == 5 and model.kl_size == 1
    z, log_q = model.sample_posterior(m, log_var, 7, torch.Generator().manual_seed(1))
    assert z.shape == (7, 40, 5) and log_q.shape == (7, 40)
    z1, z2 = z[..., :3], z[..., 3:]
    a = model.encoder.code(x.flatten(1))                                   # m1 = A x + c
    m2 = model.posterior.encoder2.mean(z1)                                           # m2 = B z1 + d
    want_q = (Normal(a, torch.exp(0.5 * model.encoder.log_var)).log_prob(z1).sum(-1)
              + Normal(m2, torch.exp(0.5 * model.posterior.encoder2.log_var)).log_prob(z2).sum(-1))
    torch.testing.assert_close(log_q, want_q)
    want_p = (Normal(0.0, 1.0).log_prob(z2).sum(-1)
              + Normal(model.prior.conditional.mean(z2), torch.exp(0.5 * model.prior.conditional.log_var)).log_prob(z1).sum(-1))
    torch.testing.assert_close(model.log_prior(z), want_p)
    # forward's one-sample ELBO is log w of one importance sample, the same draw
    terms = model(x, generator=torch.Generator().manual_seed(2))
    one = log_weights(model, x, 1, torch.Generator().manual_seed(2))[0]
    torch.testing.assert_close(terms.recon - terms.kl[:, 0], one)


def test_importance_sampling_reaches_the_exact_log_px():
    """Fit q by the IWAE bound with p fixed; then ELBO < IS estimate ≈ exact log p(x) (within 0.05 nats)."""
    model, x = linear_two_layer()
    q_params = [*model.encoder.parameters(), *model.posterior.parameters()]
    opt = torch.optim.Adam(q_params, lr=0.03)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        loss = -torch.logsumexp(log_weights(model, x, 10, g), 0).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    exact = model.exact_log_prob(x).double()
    with torch.no_grad():
        estimate = log_px(model, x, k=5000, generator=torch.Generator().manual_seed(3)).double()
        elbo = torch.stack([(lambda t: t.recon - t.kl[:, 0])(model(x, generator=g)) for _ in range(2000)]).mean(0)
    assert (estimate - exact).abs().mean() < 0.05
    assert (elbo < exact + 0.01).all() and (exact - elbo).mean() > 0.01    # the bound stays below, and is not tight


def test_two_layer_settings_are_checked():
    iwae = dict(hidden=(200, 200), latent=100, hidden2=(100, 100))
    with pytest.raises(ConfigError, match=r"^latent2 must be a positive integer; got 0 \(with two stochastic layers, the size of z2"):
        ModelConfig(stochastic_layers=2, **iwae)
    with pytest.raises(ConfigError, match="hidden2 must give the widths"):
        ModelConfig(stochastic_layers=2, latent2=50)
    with pytest.raises(ConfigError, match="latent2 would be ignored"):
        ModelConfig(latent2=50)
    with pytest.raises(ConfigError, match="hidden2 would be ignored"):
        ModelConfig(hidden2=(100,))
    with pytest.raises(ConfigError, match="hidden2=4 would be ignored: arch 'linear'"):
        ModelConfig(arch="linear", likelihood="gaussian", stochastic_layers=2, latent2=2, hidden2=4)
    with pytest.raises(ConfigError, match="needs a VAE"):
        ModelConfig(kind="ae", stochastic_layers=2, latent2=50, **iwae)
    with pytest.raises(ConfigError, match="prior must be 'standard' with two stochastic layers"):
        ModelConfig(prior="vamp", pseudo_inputs=5, stochastic_layers=2, latent2=50, **iwae)
    with pytest.raises(ConfigError, match=r"stochastic_layers must be an integer in \[1, 2\]; got 3"):
        ModelConfig(stochastic_layers=3)
    with pytest.raises(ConfigError, match="free_bits=0.5 cannot be charged with stochastic_layers=2"):
        TrainConfig(stochastic_layers=2, latent2=5, hidden2="16", free_bits=0.5)
    assert TrainConfig(stochastic_layers=2, latent2=5, hidden2="16,8").hidden2 == (16, 8)
    with pytest.raises(VaekitError, match="has 100 \\+ 50 = 150 entries"):
        build_model(ModelConfig(stochastic_layers=2, latent2=50, **iwae)).decode(torch.zeros(2, 100))


@pytest.mark.parametrize("objective, k", [("elbo", 1), ("iwae", 3)])
def test_a_two_layer_run_trains_saves_samples_and_evaluates(tmp_path, objective, k):
    cfg = TrainConfig(data="digits", epochs=3, hidden=(32,), latent=6, stochastic_layers=2, latent2=3, hidden2=(16,),
                      objective=objective, k=k, log_px_every=3, log_px_k=50)
    model, history = fit(cfg, tmp_path / "run")
    assert type(model) is VAE and isinstance(model.prior, HierarchicalPrior)
    assert handwritten_step_reason(model, "elbo", 0.0) == ("the prior is a HierarchicalPrior, not a StandardNormal "
                                                           "(the step writes N(0, I)'s KL)")
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert history[-1]["val_log_px"] >= -history[-1]["val_loss"] - 0.5     # log p(x) above the bound, up to noise
    loaded = vaekit.load(tmp_path / "run")
    assert isinstance(loaded.prior, HierarchicalPrior) and loaded.config.latent2 == 3
    report = reload_sample_evaluate(tmp_path / "run", model, 9)
    assert report["kl_per_dim"] == [] and report["kl"] > -0.1          # the KL, a one-sample estimate, as a whole
    assert report["latent_dim"] == 9 and 0 <= report["active_units"] <= 9   # z1 and z2
    assert math.isfinite(report["log_px_se"])
    from vaekit.web.explorer import Explorer   # serve explores z1, the code the decoder reads

    explorer = Explorer([tmp_path / "run"])
    try:
        assert explorer.models[0].latent == loaded.config.latent
        assert explorer.info()["models"][0]["latent2"] == 3
        assert explorer.sample(0, 2, seed=0).shape[0] == 2
    finally:
        explorer.close()
