"""The IWAE bound under a fixed decoder std f (``--anneal-std``), against a naive reference."""

import math
from dataclasses import replace

import pytest
import torch
from torch.distributions import Independent, Normal

from vaekit.errors import VaekitError
from vaekit.models import VAE, ModelConfig
from vaekit.objectives import fixed_std
from vaekit.objectives.fixed_std import log_normal_pixels, negative_iwae_fixed_std
from vaekit.objectives.iwae import negative_iwae

SPIRAL_LIKE = ModelConfig(kind="vae", arch="mlp", image_shape=(1, 1, 2), hidden=(16,), latent=1, likelihood="gaussian")


def _model(seed=0, log_var_shift=0.0):
    torch.manual_seed(seed)
    model = VAE(SPIRAL_LIKE)
    with torch.no_grad():   # the decoder's last layer emits (mean logits, log-variances) per coordinate
        model.decoder.net[-1].bias[2:] += log_var_shift
    return model


def _reference(model, x, k, f, seed):
    """−L_K^f − V written out: codes m + exp(σ/2)·e, N(0, 1) prior, the normal densities by hand."""
    m, log_var = model.encode(x)                                               # (B, 1)
    e = torch.randn((k, *m.shape), generator=torch.Generator().manual_seed(seed))
    z = m + torch.exp(0.5 * log_var) * e                                       # (k, B, 1)
    log_q = (-0.5 * (e ** 2 + log_var + math.log(2 * math.pi))).sum(-1)
    log_p = (-0.5 * (z ** 2 + math.log(2 * math.pi))).sum(-1)
    p = model.decode(z.flatten(0, 1)).base_dist
    mean, own = p.loc.view(k, len(x), 2), p.scale.view(k, len(x), 2)
    xf = x.view(1, len(x), 2)
    log_w = (-0.5 * ((xf - mean) / f) ** 2 - math.log(f) - 0.5 * math.log(2 * math.pi)).sum(-1) + log_p - log_q
    bound = torch.logsumexp(log_w, 0) - math.log(k)
    fit = (-0.5 * ((xf - mean) / own) ** 2 - own.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
    return -bound - (torch.softmax(log_w, 0) * fit).sum(0)


def test_the_loss_is_the_bound_under_f_plus_the_variance_fit():
    model, x = _model(), torch.rand(5, 1, 1, 2)
    got = negative_iwae_fixed_std(model, x, 7, 0.1, torch.Generator().manual_seed(3))
    assert got.shape == (5,)
    torch.testing.assert_close(got, _reference(model, x, 7, 0.1, 3))


def test_the_bound_reads_f_squared_not_the_decoders_variance():
    """The encoder and the means learn from log N(x; μ(z), f²) alone: shifting the decoder's own log-variance
    changes neither the encoder's gradient nor the bound (only V, the variance's own fit)."""
    x = torch.rand(6, 1, 1, 2)
    grads, losses = [], []
    for shift in (0.0, 2.0):
        model = _model(log_var_shift=shift)
        loss = negative_iwae_fixed_std(model, x, 4, 0.05, torch.Generator().manual_seed(1))
        loss.sum().backward()
        grads.append([p.grad.clone() for p in model.encoder.parameters()])
        losses.append(loss.detach())
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
    assert not torch.allclose(losses[0], losses[1])           # V reads the decoder's variance
    # with f equal to the decoder's own std everywhere the bound is the plain IWAE bound, and V = Σ w̃ log p(x|z_i)
    model = _model()
    with torch.no_grad():
        model.decoder.net[-1].weight[2:] = 0.0
        model.decoder.net[-1].bias[2:] = 2 * math.log(0.2)     # s(z) = 0.2 for every z
    fixed = negative_iwae_fixed_std(model, x, 4, 0.2, torch.Generator().manual_seed(1))
    plain = negative_iwae(model, x, 4, torch.Generator().manual_seed(1))
    z, log_q = model.q(*model.encode(x)).rsample(4, torch.Generator().manual_seed(1))   # the same codes
    log_lik = model.log_likelihood(z, x)
    log_w = log_lik + model.prior.log_prob(z) - log_q
    torch.testing.assert_close(fixed, plain - (torch.softmax(log_w, 0) * log_lik).sum(0))


def test_the_variance_fit_trains_the_decoders_variance():
    model, x = _model(), torch.rand(6, 1, 1, 2)
    loss = negative_iwae_fixed_std(model, x, 4, 0.05, torch.Generator().manual_seed(1)).sum()
    assert torch.autograd.grad(loss, model.decoder.net[-1].bias)[0][2:].abs().min() > 0   # the log-variances' row


def test_needs_a_gaussian_vae():
    bern = VAE(ModelConfig(kind="vae", arch="mlp", image_shape=(1, 1, 2), hidden=(8,), latent=1,
                           likelihood="bernoulli"))
    with pytest.raises(VaekitError, match="replaces the variance of a Gaussian p\\(x\\|z\\); this model's "
                                          "likelihood is 'bernoulli'"):
        negative_iwae_fixed_std(bern, torch.rand(2, 1, 1, 2).round(), 2, 0.1)
    ae = VAE(ModelConfig(kind="ae", arch="mlp", image_shape=(1, 1, 2), hidden=(8,), latent=1, likelihood="gaussian"))
    with pytest.raises(VaekitError, match="needs a VAE"):
        negative_iwae_fixed_std(ae, torch.rand(2, 1, 1, 2), 2, 0.1)


WIDE = ModelConfig(kind="vae", arch="mlp", image_shape=(1, 1, 128), hidden=(16, 16), latent=1, likelihood="gaussian")


@pytest.mark.parametrize("config", [WIDE, replace(WIDE, condition="label", classes=3)])
def test_the_half_layer_passes_give_the_whole_decoders_values_and_gradients(monkeypatch, config):
    """``own_mean`` and ``own_scale`` compute only their half of the last layer where the output is wide; the
    loss and every gradient are those of decoding whole (``HALF_LAYER = False``)."""
    torch.manual_seed(0)
    model = VAE(config)
    assert fixed_std.half_layer_reason(model) is None
    x = torch.rand(5, 1, 1, 128)
    y = torch.tensor([0, 1, 2, 0, 1]) if config.condition == "label" else None
    z = torch.randn(7, 1)
    ys = None if y is None else torch.tensor([0, 1, 2, 0, 1, 2, 0])
    torch.testing.assert_close(fixed_std.own_mean(model, z, ys), model.decode(z, y=ys).mean)
    torch.testing.assert_close(fixed_std.own_scale(model, z, ys), model.decode(z, y=ys).base_dist.scale)
    results = []
    for flag in (True, False):
        monkeypatch.setattr(fixed_std, "HALF_LAYER", flag)
        model.zero_grad()
        loss = negative_iwae_fixed_std(model, x, 4, 0.05, torch.Generator().manual_seed(2), y).sum()
        loss.backward()
        results.append((loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    torch.testing.assert_close(results[0][0], results[1][0])
    for name in results[0][1]:
        torch.testing.assert_close(results[0][1][name], results[1][1][name], msg=name)


def test_the_half_layer_passes_are_taken_only_where_they_apply():
    assert "too narrow" in fixed_std.half_layer_reason(_model())          # 2·1·1·2 = 4 outputs
    conv = VAE(ModelConfig(kind="vae", arch="conv", image_shape=(1, 8, 8), hidden=(16,), latent=2,
                           likelihood="gaussian"))
    assert "not the Gaussian MLP decoder" in fixed_std.half_layer_reason(conv)
    bern = VAE(ModelConfig(kind="vae", arch="mlp", image_shape=(1, 1, 128), hidden=(8,), latent=1,
                           likelihood="bernoulli"))
    assert "not the Gaussian MLP decoder" in fixed_std.half_layer_reason(bern)


def test_log_normal_pixels_is_the_independent_normals_log_prob_of_x_repeated():
    """Both of the loss's densities: under a fixed f (a 0-dim tensor) and under the decoder's own std per pixel."""
    g = torch.Generator().manual_seed(4)
    k, x = 3, torch.rand(5, 2, 3, 4, generator=g)
    mean, scale = torch.rand(k, *x.shape, generator=g), torch.rand(k, *x.shape, generator=g) + 0.1
    repeated = x.expand(k, *x.shape)
    for s, expect in ((torch.tensor(0.3), Normal(mean, 0.3)), (scale, Normal(mean, scale))):
        out = log_normal_pixels(x, mean, s)
        assert out.shape == (k, 5)
        torch.testing.assert_close(out, Independent(expect, 3).log_prob(repeated))
