import numpy as np
import pytest
import torch
from torch.distributions import Distribution

from known_models import EXAMPLE_CONFIGS
from vaekit.errors import ConfigError
from vaekit.models import ModelConfig, build_model
from vaekit.objectives import negative_elbo


@pytest.mark.parametrize("cfg", EXAMPLE_CONFIGS, ids=lambda c: f"{c.kind}-{c.arch}-{c.likelihood}-{c.image_shape}")
def test_shapes_finiteness_and_gradients(cfg):
    model = build_model(cfg, seed=0)
    x = torch.rand(5, *cfg.image_shape, generator=torch.Generator().manual_seed(0))
    if cfg.likelihood == "bernoulli":
        x = x.round()
    m, log_var = model.encode(x)
    assert m.shape == (5, cfg.latent)
    assert (log_var is None) == (cfg.kind == "ae")
    if log_var is not None:
        assert log_var.shape == (5, cfg.latent)
    dist = model.decode(m)
    assert isinstance(dist, Distribution)
    assert dist.batch_shape == (5,) and dist.event_shape == cfg.image_shape
    assert dist.mean.shape == (5, *cfg.image_shape)
    assert dist.log_prob(x).shape == (5,)
    loss, _, _ = negative_elbo(model, x, generator=torch.Generator().manual_seed(1))
    assert loss.shape == (5,) and torch.isfinite(loss).all()
    loss.mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.sample(3).shape == (3, *cfg.image_shape)


def test_same_seed_same_weights_and_global_rng_untouched():
    cfg = EXAMPLE_CONFIGS[0]
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = build_model(cfg, seed=7), build_model(cfg, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_bernoulli_log_prob_is_negative_bce():
    cfg = ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2)
    model = build_model(cfg)
    z = torch.randn(3, 2)
    x = torch.randint(0, 2, (3, 1, 4, 4)).float()
    logits = model.decoder(z)
    ref = -torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum((1, 2, 3))
    torch.testing.assert_close(model.decode(z).log_prob(x), ref)


@pytest.mark.parametrize("kwargs, setting, message", [
    (dict(kind="gan"), "kind", "kind must be one of vae, ae; got 'gan'"),
    (dict(arch="resnet"), "arch", "arch must be one of mlp, conv, linear; got 'resnet'"),
    (dict(likelihood="poisson"), "likelihood", "likelihood must be one of bernoulli, gaussian; got 'poisson'"),
    (dict(latent=0), "latent", "latent must be a positive integer; got 0"),
    (dict(latent=2.0), "latent", "latent must be a positive integer; got 2.0"),
    (dict(latent=True), "latent", "latent must be a positive integer; got True"),
    (dict(latent=10 ** 8), "latent", "latent must be an integer in [1, 16777216]; got 100000000"),
    (dict(hidden=(0,)), "hidden", "hidden must be a positive integer; got 0"),
    (dict(hidden=(400, -1)), "hidden", "hidden must be a positive integer; got -1"),
    (dict(hidden=()), "hidden", "hidden must be one or more positive integers; got ()"),
    (dict(hidden="400"), "hidden", "hidden must be one or more positive integers; got '400'"),
    (dict(image_shape=(28, 28)), "image_shape", "image_shape must be 3 positive integers; got (28, 28)"),
    (dict(image_shape=(1, 28, 28.5)), "image_shape", "image_shape must be a positive integer; got 28.5"),
    (dict(conv_channels=(8,)), "conv_channels", "conv_channels must be 2 positive integers; got (8,)"),
    (dict(arch="conv", image_shape=(1, 10, 10)), "arch",
     "arch 'conv' needs image height and width divisible by 4; got 10x10 (use arch 'mlp', or resize the images)"),
])
def test_bad_model_configs_name_the_parameter(kwargs, setting, message):
    with pytest.raises(ConfigError) as info:
        ModelConfig(**kwargs)
    assert str(info.value) == message and info.value.setting == setting


def test_config_accepts_json_lists_numpy_ints_and_a_single_width():
    cfg = ModelConfig(image_shape=[1, np.int64(8), 8], hidden=[32, 16], conv_channels=[4, 8], latent=3)
    assert cfg.image_shape == (1, 8, 8) and cfg.hidden == (32, 16) and cfg.conv_channels == (4, 8)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert ModelConfig(hidden=400).hidden == (400,)


@pytest.mark.parametrize("cfg", [c for c in EXAMPLE_CONFIGS if c.kind == "vae"],
                         ids=lambda c: f"{c.arch}-{c.likelihood}-{c.image_shape}")
def test_log_likelihood_matches_decode_log_prob(cfg):
    model = build_model(cfg, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, *cfg.image_shape, generator=g)
    if cfg.likelihood == "bernoulli":
        x = x.round()
    z = torch.randn(3, 4, cfg.latent, generator=g)
    fast = model.log_likelihood(z, x)
    ref = torch.stack([model.decode(z[s]).log_prob(x) for s in range(3)])
    torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("cfg", [EXAMPLE_CONFIGS[0], EXAMPLE_CONFIGS[8]], ids=lambda c: f"{c.kind}-{c.arch}-{c.likelihood}")
def test_interpolation_runs_from_one_reconstruction_to_the_other(cfg):
    model = build_model(cfg, seed=0).eval()
    gen = torch.Generator().manual_seed(0)
    x_a, x_b = torch.rand(3, *cfg.image_shape, generator=gen), torch.rand(3, *cfg.image_shape, generator=gen)
    path = model.interpolate(x_a, x_b, steps=5)
    assert path.shape == (3, 5, *cfg.image_shape)
    torch.testing.assert_close(path[:, 0], model.reconstruct(x_a))
    torch.testing.assert_close(path[:, -1], model.reconstruct(x_b))
    # the midpoint decodes the average code: the lecture's half moon between two images
    m_a, m_b = model.encode(x_a)[0], model.encode(x_b)[0]
    torch.testing.assert_close(path[:, 2], model.decode((m_a + m_b) / 2).mean)
    with pytest.raises(ConfigError, match=r"^steps must be an integer >= 2; got 1$"):
        model.interpolate(x_a, x_b, steps=1)
