"""The linear VAE (arch "linear"): its exact log p(x) against the known linear-Gaussian model,
the ELBO and the importance-sampled estimate against it, and training and checkpointing."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal

import known_models
import vaekit
from vaekit.errors import ConfigError, VaekitError
from vaekit.eval import log_px
from vaekit.models import ModelConfig, build_model
from vaekit.objectives import negative_elbo
from vaekit.objectives.elbo import kl_standard_normal
from vaekit.train import TrainConfig, fit
from vaekit.train.handwritten_step import handwritten_step_reason
from vaekit.train.loop import handwritten_step


@pytest.fixture(autouse=True)
def one_thread():
    """These models have 6-16 dimensions: a second thread adds only its wake-ups, and on a busy
    machine its spin-waits made a fit here 8x slower (20 s against 2.5 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def linear_vae(dim=6, latent=3, kind="vae", seed=0):
    return build_model(ModelConfig(kind=kind, arch="linear", image_shape=(1, 1, dim), latent=latent,
                                   likelihood="gaussian"), seed=seed)


@torch.no_grad()
def copy_known(model, known):
    """Give ``model`` the known model's W, b, s and its exact posterior q(z|x) = p(z|x).

    W = Q·diag(d) has orthogonal columns, so p(z|x) = N(Σ Wᵀ(x - b)/s², Σ) with the diagonal
    Σ = (I + WᵀW/s²)⁻¹ = diag(1 / (1 + d²/s²)): m = A x + c with A = Σ Wᵀ/s², c = -A b.
    """
    w, b, s2 = known.W, known.b, known.s ** 2
    var = 1 / (1 + known.d ** 2 / s2)                                  # diag Σ, (L,)
    a = var[:, None] * w.T / s2                                        # (L, D)
    model.decoder.mean.weight.copy_(w)
    model.decoder.mean.bias.copy_(b)
    model.decoder.log_var.fill_(math.log(s2))
    model.encoder.code.weight.copy_(a)
    model.encoder.code.bias.copy_(-(a @ b))
    model.encoder.log_var.copy_(var.log())
    return model


def analytic_elbo(model, x):
    """L_b = E_q[log p(x|z)] - KL(q || N(0, I)) in closed form, float64, (N,) nats.

    For p(x|z) = N(W z + b, s² I) and q = N(m, diag v):
    E_q[log p(x|z)] = -D/2·log(2π s²) - (|x - W m - b|² + Σ_l v_l |W_l|²) / (2 s²).
    """
    m, log_var = (t.double() for t in model.encode(x))
    w, b = model.decoder.mean.weight.double(), model.decoder.mean.bias.double()
    s2 = model.decoder.log_var.double().exp()
    xf = x.flatten(1).double()
    resid = xf - m @ w.T - b
    dim = xf.shape[1]
    recon = (-0.5 * dim * torch.log(2 * math.pi * s2)
             - (resid.pow(2).sum(-1) + (log_var.exp() * w.pow(2).sum(0)).sum(-1)) / (2 * s2))
    return recon - kl_standard_normal(m, log_var).sum(-1)


def test_exact_log_prob_is_the_known_models():
    known = known_models.LinearGaussian(dim=6, latent=3, s=0.5)
    model = copy_known(linear_vae(), known)
    x = known.sample_x(50).float()
    exact = model.exact_log_prob(x)
    assert exact.shape == (50,) and exact.dtype == torch.float32
    torch.testing.assert_close(exact.double(), known.exact_log_px(x.double()), rtol=0, atol=1e-4)
    # the encoder now is the known model's exact posterior
    for mine, theirs in zip(model.encode(x), known.encode(x.double())):
        torch.testing.assert_close(mine.double(), theirs, rtol=0, atol=1e-5)


def test_with_the_exact_posterior_the_elbo_is_log_px_for_every_example_and_every_draw():
    known = known_models.LinearGaussian(dim=6, latent=3, s=0.5)
    model = copy_known(linear_vae(), known)
    x = known.sample_x(40).float()
    exact = model.exact_log_prob(x).double()
    with torch.no_grad():
        torch.testing.assert_close(analytic_elbo(model, x), exact, rtol=0, atol=1e-4)   # gap 0
        # p(x, z)/q(z|x) = p(x) for every z: each single importance weight is exact
        one_draw = log_px(model, x, k=1, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(one_draw.double(), exact, rtol=0, atol=1e-4)


def test_elbo_below_exact_and_importance_sampling_reaches_it():
    known = known_models.LinearGaussian(dim=6, latent=3, s=0.5)
    model = copy_known(linear_vae(), known)
    with torch.no_grad():   # a q that is off the posterior, and wider (light-tailed weights)
        model.encoder.code.bias.add_(0.2)
        model.encoder.log_var.add_(0.3)
    x = known.sample_x(100).float()
    exact = model.exact_log_prob(x).double()
    with torch.no_grad():
        elbo = analytic_elbo(model, x)
    gap = exact - elbo                                    # KL(q(z|x) || p(z|x)) > 0
    assert (gap > 0.5).all()
    lp = model.log_prob(x, k=5000, generator=torch.Generator().manual_seed(0)).double()
    # k = 5000 leaves a noise of about 0.015 nats per example here, and a bias far below it
    assert (lp - exact).abs().max() < 0.1
    assert abs((lp - exact).mean()) < 0.01
    # the model's own one-sample ELBO (forward) averages to the closed form
    with torch.no_grad():
        loss, _, _ = negative_elbo(model, x.repeat(100, 1, 1, 1), generator=torch.Generator().manual_seed(1))
    assert abs(-loss.double().mean() - elbo.mean()) < 0.05   # 10⁴ draws: a noise of about 0.01


def test_an_untrained_linear_vae_has_elbo_below_exact():
    model = linear_vae(dim=16, latent=4, seed=3)
    x = torch.randn(30, 1, 1, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (analytic_elbo(model, x) < model.exact_log_prob(x).double()).all()


def test_shapes_encoder_variance_and_unbounded_decoder():
    model = linear_vae(dim=6, latent=3)
    x = torch.randn(5, 1, 1, 6) * 3
    m, log_var = model.encode(x)
    assert m.shape == log_var.shape == (5, 3)
    assert torch.equal(log_var, model.encoder.log_var.expand(5, 3))   # σ does not depend on x
    z = torch.randn(5, 3) * 10
    dist = model.decode(z)
    assert isinstance(dist, Independent) and isinstance(dist.base_dist, Normal)
    assert dist.batch_shape == (5,) and dist.event_shape == (1, 1, 6)
    with torch.no_grad():
        model.decoder.log_var.fill_(math.log(0.3))
    dist = model.decode(z)
    torch.testing.assert_close(dist.mean, model.decoder.mean(z).view(5, 1, 1, 6))   # identity output
    assert dist.mean.abs().max() > 1                                                # no sigmoid
    torch.testing.assert_close(dist.stddev, torch.full((5, 1, 1, 6), math.sqrt(0.3)))
    assert dist.log_prob(x).shape == (5,)
    names = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert names == {"encoder.code.weight": (3, 6), "encoder.code.bias": (3,), "encoder.log_var": (3,),
                     "decoder.mean.weight": (6, 3), "decoder.mean.bias": (6,), "decoder.log_var": ()}


def test_plain_linear_autoencoder_and_other_archs_have_no_exact_log_prob():
    ae = linear_vae(kind="ae")
    assert not ae.has_exact_log_prob and linear_vae().has_exact_log_prob
    m, log_var = ae.encode(torch.randn(2, 1, 1, 6))
    assert m.shape == (2, 3) and log_var is None
    assert "encoder.log_var" not in dict(ae.named_parameters())
    with pytest.raises(VaekitError, match=r"^the exact log p\(x\) needs arch 'linear' and kind 'vae'; this model "
                                          r"is a plain autoencoder \(no P\(x\)\)"):
        ae.exact_log_prob(torch.randn(2, 1, 1, 6))
    mlp = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2, likelihood="gaussian"))
    assert not mlp.has_exact_log_prob
    with pytest.raises(VaekitError, match=r"needs arch 'linear' and kind 'vae'; this model is arch 'mlp'"):
        mlp.exact_log_prob(torch.rand(2, 1, 4, 4))
    with pytest.raises(VaekitError, match=r"expects images of shape \(1, 1, 6\)"):
        linear_vae().exact_log_prob(torch.rand(2, 1, 4, 4))


@pytest.mark.parametrize("kwargs, setting, message", [
    (dict(), "likelihood", "likelihood must be gaussian for arch 'linear' (a linear decoder's mean is unbounded, "
                           "not a probability); got 'bernoulli'"),
    (dict(likelihood="gaussian", hidden=(32, 16)), "hidden",
     "hidden=32,16 would be ignored: arch 'linear' has no hidden layers (one linear map each way); drop it or "
     "use arch 'mlp'"),
])
def test_model_config_refuses_what_a_linear_model_cannot_use(kwargs, setting, message):
    with pytest.raises(ConfigError) as info:
        ModelConfig(arch="linear", **kwargs)
    assert str(info.value) == message and info.value.setting == setting
    cfg = ModelConfig(arch="linear", likelihood="gaussian", kind="ae")     # a plain linear AE is allowed
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("kwargs, setting, message", [
    (dict(), "likelihood", "likelihood must be gaussian for arch=linear (a linear decoder's mean is unbounded, "
                           "not a probability); got 'auto' (bernoulli for digits)"),
    (dict(likelihood="bernoulli"), "likelihood", "likelihood must be gaussian for arch=linear (a linear decoder's "
                                                 "mean is unbounded, not a probability); got 'bernoulli'"),
    (dict(likelihood="gaussian", hidden="64"), "hidden",
     "hidden=64 would be ignored: arch=linear has no hidden layers (one linear map each way); drop it or use "
     "arch=mlp"),
])
def test_train_config_refuses_what_a_linear_model_cannot_use(kwargs, setting, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig(arch="linear", **kwargs)
    assert str(info.value) == message and info.value.setting == setting


def test_training_in_memory_closes_the_gap_and_finds_the_likelihood():
    """Lucas et al. (2019): the linear VAE's ELBO optimum is probabilistic PCA's, with a tight bound."""
    known = known_models.LinearGaussian(dim=6, latent=3, s=0.5)
    x = known.sample_x(400, seed=2).float()
    model = linear_vae(seed=1)
    start = model.exact_log_prob(x).mean().item()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(0)
    for _ in range(250):
        loss, _, _ = negative_elbo(model, x, generator=g)
        opt.zero_grad()
        loss.mean().backward()
        opt.step()
    with torch.no_grad():
        exact = model.exact_log_prob(x).double()
        elbo = analytic_elbo(model, x)
    truth = known.exact_log_px(x.double()).mean().item()
    assert exact.mean().item() > start + 1
    assert exact.mean().item() > truth - 0.02                # the fit is as likely as the true model (or more)
    assert (exact - elbo).mean().item() < 0.03               # and the bound is nearly tight
    assert (elbo <= exact + 1e-5).all()


def _linear_gaussian_npy(path, n=1000, seed=0):
    """Images (n, 4, 4) uint8 from a rank-2 linear-Gaussian model: a dataset ``fit`` reads by path."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(16, 2)) * 25
    x = rng.normal(size=(n, 2)) @ w.T + 128 + rng.normal(size=(n, 16)) * 6
    np.save(path, np.clip(np.round(x), 0, 255).astype(np.uint8).reshape(n, 4, 4))
    return str(path)


def test_fit_trains_by_autograd_logs_exact_log_px_and_checkpoints(tmp_path):
    data = _linear_gaussian_npy(tmp_path / "lg.npy")
    cfg = TrainConfig(data=data, arch="linear", likelihood="gaussian", latent=2, epochs=6, batch_size=50, lr=0.03,
                      log_px_every=3, log_px_k=500, device="cpu")
    model, records = fit(cfg, tmp_path / "run", command=["test"])
    assert handwritten_step_reason(model, "elbo", 0.0) == "the likelihood is 'gaussian', not 'bernoulli'"
    assert handwritten_step(model, cfg) is None                        # fast_path auto: autograd
    assert all("val_log_px_exact" in r for r in records)
    assert records[-1]["val_log_px_exact"] > records[0]["val_log_px_exact"] + 5
    last = records[-1]
    # ELBO (a one-sample estimate) <= log p(x); the importance-sampled estimate is close to the exact one
    assert -last["val_loss"] < last["val_log_px_exact"] + 0.5
    assert abs(last["val_log_px"] - last["val_log_px_exact"]) < 0.5
    # the checkpoint (safetensors) round trip keeps the scalar log s² and the vector σ
    loaded = vaekit.load(tmp_path / "run")
    state, saved = model.state_dict(), loaded.state_dict()
    assert state.keys() == saved.keys() and saved["decoder.log_var"].shape == ()
    assert all(torch.equal(state[k], saved[k]) for k in state)
    x = torch.rand(7, 1, 4, 4)
    torch.testing.assert_close(loaded.exact_log_prob(x), model.exact_log_prob(x))


def test_fast_path_on_is_refused_for_the_linear_model(tmp_path):
    data = _linear_gaussian_npy(tmp_path / "lg.npy", n=100)
    cfg = TrainConfig(data=data, arch="linear", likelihood="gaussian", latent=2, epochs=1, fast_path="on",
                      log_px_every=0, device="cpu")
    with pytest.raises(ConfigError, match=r"^fast_path is 'on', but the hand-written step does not apply: the "
                                          r"likelihood is 'gaussian', not 'bernoulli' \(use fast_path auto or off\)$"):
        fit(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_fit_on_the_linear_gaussian_dataset_reaches_its_true_log_px():
    """The registry's probabilistic-PCA data: the fitted model's exact log p(x) nears the data's own,
    the importance-sampled estimate agrees with it, and the ELBO stays below it."""
    from vaekit.data import load
    from vaekit.data.linear_gaussian import exact_log_prob

    cfg = TrainConfig(data="linear-gaussian", arch="linear", latent=2, epochs=10, batch_size=100, lr=0.03,
                      lr_schedule="cosine", log_px_every=10, log_px_k=1000, device="cpu")
    assert cfg.resolved_likelihood() == "gaussian"
    _, records = fit(cfg)
    truth = exact_log_prob(load("linear-gaussian", "val").images).double().mean().item()
    last = records[-1]
    assert abs(last["val_log_px_exact"] - truth) < 0.1
    assert abs(last["val_log_px"] - last["val_log_px_exact"]) < 0.02
    assert -last["val_loss"] < last["val_log_px_exact"] + 0.02
