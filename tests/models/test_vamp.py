"""The VampPrior p(z) = (1/K) Σ_k q(z|u_k): known answers where it reduces to N(0, I), and its use."""

import math

import pytest
import torch
from torch.distributions import Normal

from vaekit.errors import ConfigError
from vaekit.eval.elbo import elbo_sums
from vaekit.eval.likelihood import log_px
from vaekit.models import ModelConfig, build_model
from vaekit.objectives.elbo import kl_standard_normal
from vaekit.train import TrainConfig, fit

from saved_runs import reload_sample_evaluate


def standard_and_reduced_vamp():
    """A standard-prior VAE and a VampPrior VAE with K = 1 and the same weights, whose one pseudo-input's
    posterior is N(0, I): biases zero and a black pseudo-input (sigmoid(-1e4) = 0) give m = 0, log_var = 0.
    Data x still has q(z|x) far from N(0, I), so the test is not trivial."""
    shape = dict(image_shape=(1, 6, 6), hidden=(16,), latent=3)
    standard = build_model(ModelConfig(**shape), seed=0)
    vamp = build_model(ModelConfig(**shape, prior="vamp", pseudo_inputs=1), seed=0)
    with torch.no_grad():
        for model in (standard, vamp):
            for layer in model.encoder.net:
                if isinstance(layer, torch.nn.Linear):
                    layer.bias.zero_()
                    layer.weight.mul_(3)          # codes far from N(0, I) for the data
        vamp.load_state_dict({**standard.state_dict(), "prior.pseudo_logits": torch.full((1, 1, 6, 6), -1e4)})
    m, log_var = vamp.encode(vamp.pseudo_inputs())
    assert torch.equal(m, torch.zeros(1, 3)) and torch.equal(log_var, torch.zeros(1, 3))
    x = (torch.rand(64, 1, 6, 6, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    return standard, vamp, x


def test_k1_with_a_standard_posterior_is_the_standard_prior():
    standard, vamp, x = standard_and_reduced_vamp()
    z = torch.randn(5, 7, 3, generator=torch.Generator().manual_seed(0))   # seeded: the same check every run
    torch.testing.assert_close(vamp.log_prior(z), Normal(0.0, 1.0).log_prob(z).sum(-1), rtol=0, atol=1e-6)
    torch.testing.assert_close(vamp.log_prior(z), standard.log_prior(z), rtol=0, atol=1e-6)
    # the importance-sampled log p(x): the same draws give the same weights
    a = log_px(standard, x, k=200, generator=torch.Generator().manual_seed(3))
    b = log_px(vamp, x, k=200, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b, rtol=0, atol=1e-4)


def test_the_one_sample_kl_estimates_the_closed_form():
    standard, vamp, x = standard_and_reduced_vamp()
    m, log_var = standard.encode(x)
    exact = kl_standard_normal(m, log_var).sum(-1)                          # (B,)
    assert exact.mean() > 0.5                                               # q(z|x) is not the prior
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([vamp(x, generator=g).kl[:, 0] for _ in range(4000)])   # (S, B) one-sample estimates
    assert vamp(x).kl.shape == (64, 1) and vamp.kl_size == 1 and standard.kl_size == 3
    se = draws.std(0) / math.sqrt(len(draws))
    assert ((draws.mean(0) - exact).abs() < 5 * se + 1e-4).all()           # unbiased, within 5 standard errors


def test_vamp_settings_are_checked():
    with pytest.raises(ConfigError, match="prior 'vamp' needs a VAE"):
        ModelConfig(kind="ae", prior="vamp", pseudo_inputs=3)
    with pytest.raises(ConfigError, match="pseudo_inputs must be a positive integer"):
        ModelConfig(prior="vamp", pseudo_inputs=0)
    with pytest.raises(ConfigError, match="pseudo_inputs=4 would be ignored"):
        ModelConfig(pseudo_inputs=4)
    with pytest.raises(ConfigError, match="free_bits=0.5 cannot be charged with prior=vamp"):
        TrainConfig(prior="vamp", free_bits=0.5)
    with pytest.raises(ConfigError, match="prior 'vamp' needs a VAE"):
        TrainConfig(prior="vamp", model="ae")
    for config in (ModelConfig, TrainConfig):
        with pytest.raises(ConfigError, match="prior 'vamp' with arch 'linear' would lose the exact log p"):
            config(prior="vamp", arch="linear", likelihood="gaussian")


def test_a_vamp_run_trains_saves_samples_and_evaluates(tmp_path):
    cfg = TrainConfig(data="digits", epochs=3, latent=4, hidden=(32,), prior="vamp", pseudo_inputs=20,
                      log_px_every=3, log_px_k=50)
    model, history = fit(cfg, tmp_path / "run")
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert history[-1]["val_log_px"] >= -history[-1]["val_loss"] - 0.5     # log p(x) above the bound, up to noise
    report = reload_sample_evaluate(tmp_path / "run", model, 4)
    assert report["kl_per_dim"] == [] and report["kl"] > 0


def test_the_mixture_density_is_the_direct_sum_over_components():
    """log p(z) by one matrix product equals log (1/K) Σ_k N(z; m_k, v_k) summed term by term (float64)."""
    model = build_model(ModelConfig(image_shape=(1, 6, 6), hidden=(16,), latent=3, prior="vamp", pseudo_inputs=7),
                        seed=0)
    z = 2 * torch.randn(4, 9, 3, generator=torch.Generator().manual_seed(0))
    m, log_var = (t.double() for t in model.encode(model.pseudo_inputs()))
    direct = Normal(m, torch.exp(0.5 * log_var)).log_prob(z.double().unsqueeze(-2)).sum(-1)    # (4, 9, K)
    want = torch.logsumexp(direct, -1) - math.log(7)
    torch.testing.assert_close(model.log_prior(z).double(), want, rtol=0, atol=1e-4)


def test_an_evaluation_encodes_the_pseudo_inputs_once_and_scores_the_same():
    model = build_model(ModelConfig(image_shape=(1, 6, 6), hidden=(16,), latent=3, prior="vamp", pseudo_inputs=7),
                        seed=0)
    x = (torch.rand(32, 1, 6, 6, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    z = torch.randn(5, 32, 3, generator=torch.Generator().manual_seed(2))
    pseudo_passes = []
    model.encoder.register_forward_hook(lambda m, inputs, out: pseudo_passes.append(len(inputs[0]) == 7))
    with torch.no_grad():
        fresh = model.log_prior(z)
    assert sum(pseudo_passes) == 1
    pseudo_passes.clear()
    # 4 batches of 8, each in 3 chunks of at most 40 decodes: 12 calls of log p(z), one encoding of the u_k
    estimate = log_px(model, x, k=15, batch_size=8, max_rows=40, generator=torch.Generator().manual_seed(3))
    elbo_sums(model, x, batch_size=8, generator=torch.Generator().manual_seed(4))
    assert sum(pseudo_passes) == 2 and torch.isfinite(estimate).all()        # once per evaluation
    with torch.no_grad(), model.fixed_prior():
        with model.fixed_prior():                                            # re-entrant: the inner block keeps it
            torch.testing.assert_close(model.log_prior(z), fresh, rtol=0, atol=0)
        torch.testing.assert_close(model.log_prior(z), fresh, rtol=0, atol=0)
        with torch.enable_grad():                                            # training inside: computed afresh
            model.log_prior(z).sum().backward()
    assert model.prior.pseudo_logits.grad is not None and model.prior.pseudo_logits.grad.abs().sum() > 0
    assert model.prior._fixed_components is None                                   # and nothing kept after the block
