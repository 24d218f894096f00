"""Section 2, the variance constraint: its statistics on known codes, its conclusion, its figures."""

import contextlib
import math

import pytest
import torch

from vaekit.eval.posterior import COLLAPSED, encode_all, reconstruction, variance_stats
from vaekit.lecture.sections import variance
from vaekit.models import VAE, ModelConfig
from vaekit.objectives.elbo import ElboTerms
from vaekit.viz.variance import penalty_png, samples_pair_png, sigma_hist_png
from vaekit.i18n import language
from lecture.english import english_words
from lecture.made_up import as_numbers


def test_variance_stats_of_the_prior_itself():
    # m = 0, σ = 0: the codes are the prior's; every penalty is 0 and every moment is 1
    s = variance_stats(torch.zeros(5, 3), torch.zeros(5, 3))
    assert s == pytest.approx({"mean_exp_sigma": 1.0, "median_sigma": 0.0, "collapsed": 0.0,
                               "mean_m_sq": 0.0, "second_moment": 1.0, "kl": 0.0})


def test_variance_stats_by_hand():
    # two examples, two dimensions: σ = log 0.001 (collapsed) and log 4; m = (1, 3) and (0, 0)
    m = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    log_var = torch.log(torch.tensor([[0.001, 4.0], [0.001, 4.0]]))
    s = variance_stats(m, log_var)
    assert s["mean_exp_sigma"] == pytest.approx((0.001 + 4.0) / 2)
    assert s["collapsed"] == pytest.approx(0.5)        # exp(σ) = 0.001 < COLLAPSED in half the entries
    assert 0.001 < COLLAPSED < 4.0
    assert s["mean_m_sq"] == pytest.approx((10 / 2 + 0) / 2)
    assert s["second_moment"] == pytest.approx(((10 + 4.001) / 2 + 4.001 / 2) / 2)
    # KL = ½ Σ (exp(σ) − (1 + σ) + m²) per example, then the mean over examples
    pen = 0.001 - (1 + math.log(0.001)) + 4.0 - (1 + math.log(4.0))
    assert s["kl"] == pytest.approx(0.5 * ((pen + 10) + pen) / 2)


class _FixedModel(torch.nn.Module):
    """encode: m = the first two pixels, σ = −1; decode(m).mean = 0.5 everywhere; forward: fixed terms."""

    likelihood = "bernoulli"

    def encode(self, x):
        m = x.flatten(1)[:, :2]
        return m, torch.full_like(m, -1.0)

    def decode(self, z, validate=True):
        class _D:
            mean = torch.full((len(z), 1, 2, 2), 0.5)
        return _D()

    def forward(self, x, generator=None, validate=True):
        return ElboTerms(torch.full((len(x),), -3.0), torch.full((len(x), 2), 0.25))

    def fixed_prior(self):
        return contextlib.nullcontext()   # no prior to fix


def test_encode_all_batches_and_refuses_an_autoencoder():
    x = torch.arange(7 * 4, dtype=torch.float32).view(7, 1, 2, 2)
    m, log_var = encode_all(_FixedModel(), x, batch_size=3)
    assert torch.equal(m, x.flatten(1)[:, :2]) and torch.equal(log_var, torch.full((7, 2), -1.0))
    ae = VAE(ModelConfig(kind="ae", image_shape=(1, 2, 2), hidden=(4,), latent=2))
    with pytest.raises(ValueError, match="plain autoencoder"):
        encode_all(ae, x)


def test_reconstruction_by_hand():
    x = torch.tensor([0.0, 1.0, 1.0, 0.0]).repeat(5, 1).view(5, 1, 2, 2)
    r = reconstruction(_FixedModel(), x, x, batch_size=2)
    assert r["recon"] == pytest.approx(3.0)            # −log p(x|c) = 3 nats per image
    assert r["kl"] == pytest.approx(0.5)               # 2 dimensions × 0.25
    assert r["elbo"] == pytest.approx(-3.5)
    assert r["mse"] == pytest.approx(0.25)             # (0.5 − 0 or 1)² for every pixel


NUMBERS = {"mean_exp_sigma_kl": 0.36, "mean_exp_sigma_nokl": 0.0002, "collapsed_kl": 0.0, "collapsed_nokl": 1.0,
           "recon_kl": 19.2, "recon_nokl": 14.3, "mse_kl": 0.080, "mse_nokl": 0.070,
           "second_moment_kl": 1.02, "second_moment_nokl": 12.0, "kl_kl": 4.5, "kl_nokl": 82.1,
           "sample_nn_kl": 0.17, "sample_nn_nokl": 0.24, "test_nn": 0.13}


def _numbers(**changes):
    return as_numbers({**NUMBERS, **changes})


def test_conclusion_expected_branch():
    text = variance.conclusion(_numbers())
    assert "collapses: mean exp(σ) is 0.0002 against 0.36" in text
    assert "reconstructs better" in text and "14.30 nats per image against 19.20" in text
    assert "12 where N(0, I) has 1" in text and "82.1 nats per image" in text
    assert "further from anything in the data" in text and "0.240 against 0.170" in text
    assert "nexpectedly" not in text


def test_conclusion_unexpected_branches():
    text = variance.conclusion(_numbers(mean_exp_sigma_nokl=0.5, recon_nokl=20.0, second_moment_nokl=1.01,
                                        sample_nn_nokl=0.15))
    assert "did not fall without the KL term: mean exp(σ) is 0.5 against 0.36" in text
    assert "did not lower the reconstruction error" in text
    assert "fit the prior no worse" in text
    assert "no further from the data" in text
    # a fall that is not a collapse, and a better likelihood with a worse pixel error, are said as such
    text = variance.conclusion(_numbers(mean_exp_sigma_nokl=0.1, mse_nokl=0.09))
    assert "falls, but less than expected" in text and "(higher, although the likelihood is better)" in text


def test_figures_are_png():
    assert penalty_png().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="contain 0"):
        penalty_png(0.5, 2.0)
    g = torch.Generator().manual_seed(0)
    assert sigma_hist_png({"a": torch.randn(20, 3, generator=g), "b": torch.randn(20, 3, generator=g) - 9}) \
        .startswith(b"\x89PNG")
    images = torch.rand(16, 1, 8, 8, generator=g)
    assert samples_pair_png(images, images.flip(0), ("left", "right"), rows=4).startswith(b"\x89PNG")


def test_conclusion_in_chinese():
    with language("zh-TW"):
        text = variance.conclusion(_numbers())
    assert "沒有 KL 項時，雜訊變異數坍縮了：平均 exp(σ) 是 0.0002，有 KL 項時是 0.36（100% 的項目低於 0.01，有 KL 項時是 0%）。" in text
    assert "−E log p(x|c) 是每張影像 14.30 nats，有 KL 項時是 19.20；像素均方誤差 0.0700，有 KL 項時是 0.0800。" in text
    assert "它到先驗分佈的 KL 是每張影像 82.1 nats，有 KL 項時是 4.5" in text and "0.240，有 KL 項時是 0.170" in text
    assert english_words(text) == [] and "出乎預期" not in text
