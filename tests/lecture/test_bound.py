"""Section 4, the lower bound: L_k by groups of weights on known models, the conclusion, the figures."""

import math

import known_models
import pytest
import torch

from vaekit.eval.posterior import bounds_by_k, mean_se, refine_q
from vaekit.lecture.sections import bound
from vaekit.viz.bound import bounds_vs_k_png, linear_bound_png, training_bound_png
from vaekit.i18n import language
from lecture.english import english_words
from lecture.made_up import as_numbers


def test_bounds_equal_log_px_when_q_is_the_true_posterior():
    # with q(z|x) = p(z|x) every weight p(x, z)/q(z|x) is p(x) itself: L_k = log p(x) for every k
    model = known_models.LinearGaussian()
    x = model.sample_x(7)
    exact = model.exact_log_px(x)
    out = bounds_by_k(model, x, (1, 4, 12), batch_size=3, generator=torch.Generator().manual_seed(0), max_rows=10)
    for k in (1, 4, 12):
        assert out[k].shape == (7,) and out[k].dtype == torch.float64
        torch.testing.assert_close(out[k], exact, atol=1e-9, rtol=0)


def test_bounds_rise_with_k_under_a_poor_q():
    # a shifted, too-wide q: L_1 < L_10 < L_200 < log p(x), and L_1 (averaged over 200 codes) is the ELBO
    model = known_models.LinearGaussian(q_shift=0.7, q_log_scale=0.5)
    x = model.sample_x(40)
    out = bounds_by_k(model, x, (1, 10, 200), generator=torch.Generator().manual_seed(1))
    means = [out[k].mean().item() for k in (1, 10, 200)]
    exact = model.exact_log_px(x).mean().item()
    assert means[0] < means[1] < means[2] < exact
    # the ELBO in closed form: E_q log N(x; W z + b, s² I) = log N(x; W m + b, s² I) − Σ_j v_j ‖W_j‖²/(2 s²)
    m, log_var = model.encode(x)
    s2 = model.s ** 2
    mean = m @ model.W.T + model.b
    flat = x.reshape(len(x), -1)
    expected_lik = (-0.5 * ((flat - mean) ** 2).sum(1) / s2 - 0.5 * flat.shape[1] * math.log(2 * math.pi * s2)
                    - (log_var.exp() * (model.W ** 2).sum(0)).sum(1) / (2 * s2))
    kl = 0.5 * (log_var.exp() - 1 - log_var + m ** 2).sum(1)
    assert means[0] == pytest.approx((expected_lik - kl).mean().item(), abs=0.05)


def test_refine_q_finds_the_true_posterior_and_leaves_the_model_alone():
    # a linear-Gaussian model whose exact posterior is a diagonal Gaussian; start from a poor q
    poor = known_models.LinearGaussian(q_shift=0.8, q_log_scale=0.7)
    exact = known_models.LinearGaussian()
    x = poor.sample_x(30)
    before = {k: v.clone() for k, v in vars(poor).items() if isinstance(v, torch.Tensor)}
    m, log_var = refine_q(poor, x, steps=200, samples=4, lr=0.03, generator=torch.Generator().manual_seed(3))
    true_m, true_log_var = exact.encode(x)
    # within half a posterior standard deviation (0.24 to 0.7 here) of the true mean, and its variance within 35 %
    assert ((m - true_m) / (0.5 * true_log_var).exp()).abs().max() < 0.5
    assert (log_var - true_log_var).abs().max() < 0.3
    gap_before = (poor.exact_log_px(x) - bounds_by_k(poor, x, (1, 100))[1]).mean()
    gap_after = (poor.exact_log_px(x) - bounds_by_k(poor, x, (1, 100), q=(m, log_var))[1]).mean()
    assert gap_after < 0.1 < 1.0 < gap_before
    assert all(torch.equal(v, getattr(poor, k)) for k, v in before.items())


def test_bounds_by_k_checks_its_ks():
    model = known_models.LinearGaussian()
    x = model.sample_x(2)
    with pytest.raises(ValueError, match="divide the largest, 10"):
        bounds_by_k(model, x, (1, 3, 10))
    with pytest.raises(ValueError, match="at least one k"):
        bounds_by_k(model, x, ())


def test_mean_se_by_hand():
    mean, se = mean_se(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert mean == pytest.approx(2.5)
    assert se == pytest.approx(math.sqrt(5 / 3) / 2)     # sample std sqrt(5/3), over sqrt(4)
    assert math.isnan(mean_se(torch.tensor([1.0]))[1])


NUMBERS = {
    "train_log_px": -23.3, "train_elbo": -23.7, "train_gap": 0.4, "train_gap_first": 0.1,
    "train_gap_negative_epochs": 0, "train_epochs": 60,
    "linear_elbo": 10.089, "linear_is": 10.103, "linear_exact": 10.105, "linear_true": 10.111,
    "linear_gap": 0.016, "linear_gap_se": 0.001, "linear_exact_minus_is": 0.001, "linear_exact_minus_is_se": 0.001,
    "linear_is_minus_elbo": 0.014, "linear_is_minus_elbo_se": 0.001,
    "linear_true_minus_exact": 0.006, "linear_true_minus_exact_se": 0.006,
    "vae_L1000": -23.31, "iwae_L1000": -23.08, "vae_logpx_refined": -23.31, "iwae_logpx_refined": -23.09,
    "vae_gap1": 0.33, "iwae_gap1": 0.95, "vae_gap1_refined": 0.24, "iwae_gap1_refined": 0.43,
    "vae_gap5": 0.09, "iwae_gap5": 0.21, "vae_mean_var": 0.36, "iwae_mean_var": 0.44, "k_max": 1000,
}


def _numbers(**changes):
    return as_numbers({**NUMBERS, **changes})


def test_conclusion_expected_branch():
    text = bound.conclusion(_numbers())
    assert "log p(x) is -23.30 nats per image and L_b -23.70" in text and "0.40 nats below" in text
    assert "stayed above L_b at every epoch" in text
    assert "closed to about zero, 0.016 ± 0.001 nats per point (against 0.40 nats per image" in text
    assert "exact ≥ IS, IS ≥ L_b, ceiling ≥ exact holds within noise" in text
    assert "A better q shrinks the gap" in text
    assert "from 0.33 to 0.24 nats per image" in text and "from 0.95 to 0.43" in text
    assert "(-23.31 and -23.09 estimated from the fitted q, against -23.31 and -23.08)" in text
    assert "gives a better model rather than a tighter ELBO" in text
    assert "even the bound it was trained for is not tighter, log p(x) − L_5 = 0.21 nats against 0.09" in text
    assert "larger, 0.95 against 0.33, its encoder's q(z|x) being wider (mean exp(σ) 0.44 against 0.36)" in text
    assert "nexpectedly" not in text


def test_conclusion_other_branches():
    text = bound.conclusion(_numbers(train_gap=-0.2, linear_gap=0.5, linear_exact_minus_is=-0.1,
                                     iwae_gap1_refined=0.99, iwae_L1000=-23.5, train_gap_negative_epochs=3))
    assert "unexpectedly, the estimate of log p(x) ends 0.20 nats below L_b" in text
    assert "unexpectedly, it did not close to about zero" in text
    assert "Unexpectedly, exact ≥ IS fails beyond noise (IS ≥ L_b, ceiling ≥ exact holds)" in text
    assert "Unexpectedly, fitting q(z|x) to each test image with the decoder fixed did not shrink every gap" in text
    assert "unexpectedly no better than the VAE's -23.31" in text
    text = bound.conclusion(_numbers(train_gap_negative_epochs=2, iwae_mean_var=0.3, linear_gap=-0.01))
    assert "fell below L_b in 2 of 60 epochs, by noise" in text
    assert "L_b lies above the exact log p(x) by 0.010" in text
    assert "(mean exp(σ) of its encoder's q(z|x): 0.3 against 0.36 for the VAE's)" in text
    text = bound.conclusion(_numbers(iwae_gap5=0.05, iwae_gap1=0.2))
    assert "the bound it was trained for is the tighter one, log p(x) − L_5 = 0.05 nats against 0.09" in text
    assert "and so is its plain ELBO, log p(x) − L_b = 0.20 against 0.33" in text


def test_figures_are_png():
    epochs = list(range(1, 11))
    elbo = [-30 + 0.5 * e for e in epochs]
    assert training_bound_png(epochs, [v + 0.3 for v in elbo], elbo).startswith(b"\x89PNG")
    assert linear_bound_png(epochs, elbo, [v + 0.01 for v in elbo], [v + 0.02 for v in elbo], -24.0, k=100) \
        .startswith(b"\x89PNG")
    curves = {"a": {"bounds": [-3, -2.5, -2.4], "gaps": [0.6, 0.1, 0.0], "gap_se": [0.05, 0.01, 0.0],
                    "fitted": (-2.8, 0.4)},
              "b": {"bounds": [-3.2, -2.4, -2.3], "gaps": [0.9, 0.1, 0.0], "gap_se": [0.05, 0.01, 0.0]}}
    assert bounds_vs_k_png((1, 10, 100), curves).startswith(b"\x89PNG")


def test_conclusion_in_chinese():
    with language("zh-TW"):
        text = bound.conclusion(_numbers())
    assert "訓練結束時，影像 VAE 的 log p(x) 是每張影像 -23.30 nats，L_b 是 -23.70：下界低了 0.40 nats" in text
    assert "差距「精確值 − L_b」幾乎縮小到零，每點 0.016 ± 0.001 nats（影像 VAE 則是每張影像 0.40 nats）" in text
    assert "在誤差範圍內，順序「精確值 ≥ 重要性抽樣估計值、重要性抽樣估計值 ≥ L_b、上限 ≥ 精確值」成立。" in text
    assert "VAE 的差距 log p(x) − L_b 從每張影像 0.33 nats 變成 0.24" in text
    assert english_words(text) == []
