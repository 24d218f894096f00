"""The VAE's public interface: forward as the ELBO terms, checked distributions outside the hot
loops, and the density protocol it shares with the Gaussian mixture."""

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal

from vaekit.errors import ConfigError, VaekitError
from vaekit.eval import log_px
from vaekit.models import VAE, DensityModel, LatentVariableModel, ModelConfig, build_model
from vaekit.models.gmm import GaussianMixture, GMMConfig
from vaekit.objectives import elbo_terms, negative_elbo, negative_iwae
from vaekit.objectives.elbo import ElboTerms

SHAPE = (1, 4, 4)


def small(**kw):
    return build_model(ModelConfig(image_shape=SHAPE, hidden=(8,), latent=3, **kw), seed=0)


def binary(n=6, seed=0):
    return (torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(seed)) < 0.4).float()


def test_vae_and_gmm_share_the_density_protocol():
    vae, gmm = small(), GaussianMixture(GMMConfig(2, "diag", SHAPE))
    for model in (vae, gmm):
        assert isinstance(model, DensityModel)
        a = model.sample(5, generator=torch.Generator().manual_seed(0))
        b = model.sample(5, generator=torch.Generator().manual_seed(0))
        assert a.shape == (5, *SHAPE) and a.dtype == torch.float32 and torch.equal(a, b)
        with pytest.raises(ConfigError, match=r"^n must be a positive integer; got 0$"):
            model.sample(0)
    assert VAE.log_prob_is_exact is False and GaussianMixture.log_prob_is_exact is True
    assert (vae.likelihood, small(likelihood="gaussian").likelihood, gmm.likelihood) == ("bernoulli", "gaussian",
                                                                                          "gaussian")
    assert isinstance(vae, LatentVariableModel) and not isinstance(gmm, LatentVariableModel)


def test_vae_log_prob_is_the_importance_sampled_estimate():
    model, x = small(), binary()
    lp = model.log_prob(x, k=20, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert lp.shape == (6,)
    assert torch.equal(lp, log_px(model, x, k=20, batch_size=4, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(VaekitError, match=r"a bernoulli likelihood needs data in \[0, 1\]"):
        model.log_prob(x * 255, k=2)
    with pytest.raises(ConfigError, match=r"^k must be a positive integer; got 0$"):
        model.log_prob(x, k=0)


def test_plain_autoencoder_has_no_log_prob():
    ae = small(kind="ae")
    with pytest.raises(VaekitError, match=r"^log p\(x\) needs a VAE; this model is a plain autoencoder "
                                          r"\(no q\(z\|x\), no P\(x\)\)$"):
        ae.log_prob(binary(), k=2)


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_training_calls_forward_which_returns_the_elbo_terms(kind):
    model, x = small(kind=kind), binary()
    calls = []
    model.register_forward_hook(lambda module, args, out: calls.append(out))
    loss, recon, kl = negative_elbo(model, x, generator=torch.Generator().manual_seed(0))
    assert len(calls) == 1 and isinstance(calls[0], ElboTerms) and calls[0].recon is recon
    assert recon.shape == (6,)
    if kind == "vae":
        assert kl.shape == (6, 3) and (kl >= 0).all()
    else:
        assert kl is None and torch.equal(loss, -recon)
    terms = model(x, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(terms.recon, recon, rtol=0, atol=0)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_training_loss_is_the_elbo_written_out(likelihood):
    """negative_elbo through forward equals the formula on the networks' outputs, with the same draw e."""
    model, beta = small(likelihood=likelihood), 0.7
    x = binary() if likelihood == "bernoulli" else torch.rand(6, *SHAPE, generator=torch.Generator().manual_seed(1))
    loss, recon, kl = negative_elbo(model, x, beta, torch.Generator().manual_seed(5))

    m, log_var = model.encoder(x).chunk(2, dim=-1)
    e = torch.randn(m.shape, generator=torch.Generator().manual_seed(5))
    out = model.decoder(m + torch.exp(0.5 * log_var) * e)                    # c = m + exp(σ/2)·e
    if likelihood == "bernoulli":
        ref_recon = -F.binary_cross_entropy_with_logits(out, x, reduction="none").sum((1, 2, 3))
    else:
        mean_logit, out_log_var = out.chunk(2, dim=1)
        ref_recon = Normal(torch.sigmoid(mean_logit), torch.exp(0.5 * out_log_var)).log_prob(x).sum((1, 2, 3))
    ref_kl = 0.5 * (log_var.exp() - (1 + log_var) + m ** 2)
    torch.testing.assert_close(recon, ref_recon)
    torch.testing.assert_close(kl, ref_kl)
    torch.testing.assert_close(loss, -ref_recon + beta * ref_kl.sum(-1))


def test_decode_checks_its_arguments_and_the_hot_loops_do_not():
    model = small()
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    x = binary()
    with pytest.raises(ValueError, match="support"):
        model.decode(z).log_prob(x * 255)          # 0..255 pixels are not Bernoulli outcomes
    unchecked = model.decode(z, validate=False).log_prob(x * 255)
    assert unchecked.shape == (6,)
    gaussian = small(likelihood="gaussian")
    with pytest.raises(ValueError):
        gaussian.decode(z).log_prob(torch.full((6, *SHAPE), float("nan")))


def test_hot_loops_build_unchecked_distributions(monkeypatch):
    """The ELBO of training, the IWAE loss and the log p(x) estimate never turn torch's argument checks on."""
    def unchecked_only(init):
        def wrapped(self, *args, validate_args=None, **kwargs):
            if validate_args is not False:
                raise AssertionError(f"{type(self).__name__} built with argument checks in a hot loop")
            init(self, *args, validate_args=validate_args, **kwargs)
        return wrapped

    x, g = binary(), torch.Generator().manual_seed(0)
    models = [small(likelihood="bernoulli"), small(likelihood="gaussian"),
              small(likelihood="bernoulli", arch="conv", conv_channels=(2, 2))]
    for cls in (Bernoulli, Normal, Independent):
        monkeypatch.setattr(cls, "__init__", unchecked_only(cls.__init__))
    for model in models:
        negative_elbo(model, x, generator=g)[0].sum().backward()
        negative_iwae(model, x, 3, generator=g).sum().backward()
        assert log_px(model, x, k=5, generator=g).shape == (6,)
        assert model.log_likelihood(torch.randn(2, 6, 3, generator=g), x).shape == (2, 6)
    with pytest.raises(AssertionError, match="built with argument checks"):
        models[0].decode(torch.zeros(1, 3))     # the public decode keeps them


def test_elbo_terms_is_forward_without_checks():
    model, x = small(), binary()
    terms = elbo_terms(model, x, torch.Generator().manual_seed(3))
    ref = model(x, generator=torch.Generator().manual_seed(3), validate=False)
    assert torch.equal(terms.recon, ref.recon) and torch.equal(terms.kl, ref.kl)
