"""Section 3 (the finite and the infinite mixture): grid densities, held-out comparisons, figures, conclusion."""

import math

import pytest
import torch

from vaekit.eval.grid import (gaussian_draws, grid_mass, histogram_density, mean_and_se, mean_curve,
                              nearest_distance, on_grid, paired_gap, square_grid)
from vaekit.lecture.sections import mixture
from vaekit.models.config import ModelConfig
from vaekit.models import build_model
from vaekit.viz.density import Line, density_maps_png, loglik_vs_components_png
from vaekit.i18n import language
from lecture.english import english_words
from lecture.made_up import as_numbers

PNG = b"\x89PNG"


# ---- eval.grid ---------------------------------------------------------------------------------

def test_square_grid_holds_the_cell_centres_row_major_with_y_as_row():
    g = square_grid(2)
    assert g.points.tolist() == [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]
    assert g.cell == 0.5 and g.cell_area == 0.25 and g.extent == (0.0, 1.0, 0.0, 1.0)
    g = square_grid(4, lo=-1.0, hi=1.0)
    assert g.points[:, 0].min().item() == pytest.approx(-0.75) and g.cell_area == pytest.approx(0.25)
    with pytest.raises(ValueError, match="lo < hi"):
        square_grid(3, lo=1.0, hi=1.0)


def test_on_grid_puts_x_along_columns_and_batches_without_changing_values():
    g = square_grid(5)
    values = on_grid(lambda p: p[:, 0] + 10 * p[:, 1], g, batch_size=3)       # 3 does not divide 25
    centres = torch.arange(5, dtype=torch.float64) * 0.2 + 0.1
    assert torch.allclose(values, centres[None, :] + 10 * centres[:, None], atol=1e-6)
    assert values.dtype == torch.float64 and values.shape == (5, 5)
    with pytest.raises(ValueError, match="one value per point"):
        on_grid(lambda p: p[:1, 0], g, batch_size=25)


def test_grid_mass_of_the_uniform_density_and_of_a_gaussian_is_one():
    g = square_grid(200)
    assert grid_mass(on_grid(lambda p: torch.zeros(len(p)), g), g) == pytest.approx(1.0, abs=1e-12)
    normal = torch.distributions.Normal(torch.tensor([0.5, 0.5], dtype=torch.float64), 0.05)
    log_p = on_grid(lambda p: normal.log_prob(p.double()).sum(1), g)
    assert grid_mass(log_p, g) == pytest.approx(1.0, abs=1e-5)
    # half of the Gaussian centred on the square's edge lies outside: mass 1/2
    edge = torch.distributions.Normal(torch.tensor([0.0, 0.5], dtype=torch.float64), 0.05)
    assert grid_mass(on_grid(lambda p: edge.log_prob(p.double()).sum(1), g), g) == pytest.approx(0.5, abs=1e-4)


def test_histogram_density_counts_per_draw_and_per_unit_area():
    g = square_grid(2)
    x = torch.tensor([[0.1, 0.1], [0.9, 0.1], [0.9, 0.2], [2.0, 2.0], [1.0, 1.0]])
    # 5 draws, cells of area 1/4: one draw is 1/(5/4) = 0.8 per unit area; (2, 2) is outside, (1, 1) in the last cell
    assert torch.allclose(histogram_density(x, g), torch.tensor([[0.8, 1.6], [0.0, 0.8]], dtype=torch.float64))
    assert (histogram_density(x, g).sum() * g.cell_area).item() == pytest.approx(4 / 5)


def test_mean_and_se_and_the_paired_gap():
    mean, se = mean_and_se(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert mean == pytest.approx(2.5) and se == pytest.approx(math.sqrt(5 / 3) / 2)
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_se(torch.tensor([1.0]))
    p = torch.tensor([-3.0, 1.0, 5.0, 0.5])
    gap, gap_se = paired_gap(p - 0.5, p)            # a constant shift: no spread at all
    assert gap == pytest.approx(-0.5) and gap_se == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same examples"):
        paired_gap(p[:3], p)


def _constant_decoder_vae(likelihood="gaussian"):
    """A 2-D VAE whose p(x|z) ignores z: N((0.5, 0.5), 0.1² I) (or Bernoulli(0.5))."""
    model = build_model(ModelConfig(image_shape=(1, 1, 2), hidden=(8,), latent=1, likelihood=likelihood))
    last = model.decoder.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        if likelihood == "gaussian":
            last.bias[2:] = math.log(0.01)     # outputs: 2 mean logits (sigmoid 0 = 0.5), then 2 log-variances
    return model


def test_gaussian_draws_sample_x_given_z_not_its_mean():
    torch.manual_seed(0)
    draws = gaussian_draws(_constant_decoder_vae(), 20000, torch.Generator().manual_seed(1)).reshape(-1, 2)
    assert draws.mean(0).tolist() == pytest.approx([0.5, 0.5], abs=0.005)
    assert draws.std(0).tolist() == pytest.approx([0.1, 0.1], rel=0.03)
    again = gaussian_draws(_constant_decoder_vae(), 20000, torch.Generator().manual_seed(1)).reshape(-1, 2)
    assert torch.equal(draws, again)
    with pytest.raises(ValueError, match="Gaussian"):
        gaussian_draws(_constant_decoder_vae("bernoulli"), 10)


def test_mean_curve_decodes_the_prior_quantiles_in_order():
    model = _constant_decoder_vae()
    with torch.no_grad():                      # make the first mean logit equal to z: mean = sigmoid(z)
        model.decoder.net[-1].weight.zero_()
    lin = torch.nn.Linear(1, 4)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0], [0.0], [0.0], [0.0]]))
        lin.bias.copy_(model.decoder.net[-1].bias)
    model.decoder.net = torch.nn.Sequential(lin)
    curve = mean_curve(model, 4).reshape(-1, 2)
    z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor([0.125, 0.375, 0.625, 0.875]))
    assert torch.allclose(curve[:, 0], torch.sigmoid(z), atol=1e-6)
    assert torch.allclose(curve[:, 1], torch.full((4,), 0.5))
    wide = build_model(ModelConfig(image_shape=(1, 1, 2), hidden=(8,), latent=2, likelihood="gaussian"))
    with pytest.raises(ValueError, match="1-D code"):
        mean_curve(wide)


def test_nearest_distance():
    a = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    b = torch.tensor([[0.0, 1.0], [6.0, 8.0], [3.0, 0.0]])
    assert nearest_distance(a, b).tolist() == pytest.approx([1.0, 4.0])
    with pytest.raises(ValueError, match="same dimension"):
        nearest_distance(a, torch.zeros(2, 3))


# ---- viz.density -------------------------------------------------------------------------------

def test_figures_are_png():
    g = square_grid(20)
    values = on_grid(lambda p: -((p - 0.5) ** 2).sum(1) * 20, g).exp()
    curve = torch.stack([torch.linspace(0, 1, 50), torch.linspace(0, 1, 50)], 1)
    png = density_maps_png([("a", values), ("b", values), ("c", values, ("model's curve", curve))], g.extent, 1.0,
                           "density per unit area", title="t", curve=curve)
    assert png.startswith(PNG)
    png = loglik_vs_components_png([1, 4, 16], [0.1, 0.5, 0.9], [0.01, 0.02, 0.01],
                                   [Line("VAE", 0.7, 0.01, "tab:orange"), Line("truth", 1.0, 0.01, "black", ":")])
    assert png.startswith(PNG)


# ---- the conclusion ----------------------------------------------------------------------------

def _numbers(gmm, vae, true=1.32, gaps=None, vae_gap=None, image=None, curve_dist=0.12):
    """A made-up ``Section.numbers`` dict: gmm {M: mean log-lik}, vae mean; gaps default to (score − true)."""
    v = {"true_ll": true, "true_se": 0.01, "vae_nodes": 4096, "vae_ll": vae, "vae_nodes_check": 8192,
         "vae_ll_check": vae + 0.0002, "vae_is_ll": vae - 0.021, "vae_is_k": 64, "vae_se": 0.01,
         "vae_gap": vae - true if vae_gap is None else vae_gap, "vae_gap_se": 0.005, "mass_vae": 0.99,
         "vae_coverage": curve_dist, "noise_std": 0.03}
    for m, ll in gmm.items():
        v[f"gmm{m}_ll"] = ll
        v[f"gmm{m}_se"] = 0.01
        v[f"gmm{m}_gap"] = (ll - true) if gaps is None else gaps[m]
        v[f"gmm{m}_gap_se"] = 0.003
    if image is not None:
        (gll, gbpd), (vll, vbpd) = image
        v.update({"image_gmm1_ll": gll - 40, "image_gmm1_bpd": gbpd + 1, "image_gmm10_ll": gll,
                  "image_gmm10_bpd": gbpd, "image_vae_ll": vll, "image_vae_bpd": vbpd, "image_k": 500,
                  "image_dims": 64, "image_latent": 8})
    return as_numbers(v)


GMM = {1: 0.60, 4: 0.85, 16: 1.31, 64: 1.30}


def test_conclusion_vae_between_the_mixtures():
    text = mixture.conclusion(_numbers(GMM, 1.10))
    assert "between the mixtures with M = 4 (0.85) and M = 16 (1.31)" in text
    assert "about 16 components" in text
    assert "No model exceeds the ceiling" in text
    assert "the VAE with a 1-D latent 1.10 (its log P(x) = log ∫ P(z) P(x|z) dz summed over 4,096 values of z: 1.100)" in text
    assert ("Importance sampling with k = 64 samples from q(z|x), the estimate vaekit eval reports for any VAE, gives "
            "1.079 for the first seed, 0.021 nats lower: its expectation is a lower bound.") in text


def test_conclusion_vae_beats_every_mixture():
    text = mixture.conclusion(_numbers({1: 0.6, 4: 0.85}, 1.10))
    assert "beats every mixture tried, even M = 4 (by 0.25 nats)" in text


def test_conclusion_vae_no_better_than_the_smallest_mixture_is_called_unexpected():
    text = mixture.conclusion(_numbers(GMM, 0.55))
    assert "Unexpectedly, even the smallest mixture, M = 1, scores at least as well as the VAE (0.60 vs 0.55)" in text
    text = mixture.conclusion(_numbers({1: 0.6, 4: 0.5}, 0.55))     # not monotone: still the smallest
    assert "Unexpectedly, even the smallest mixture, M = 1" in text and "between" not in text


def test_conclusion_flags_a_model_above_the_ceiling_beyond_noise():
    text = mixture.conclusion(_numbers(GMM, 1.10, gaps={1: -0.7, 4: -0.5, 16: 0.02, 64: -0.01}))
    assert "The mixture with M = 16 scores above the true density by 0.020 nats, 6.7 standard errors" in text
    assert "a bug" in text
    assert "No model exceeds" not in text
    # within noise (less than 2 paired standard errors): not flagged
    text = mixture.conclusion(_numbers(GMM, 1.10, gaps={1: -0.7, 4: -0.5, 16: 0.004, 64: -0.01}))
    assert "No model exceeds the ceiling beyond noise" in text and "above it" in text


def test_conclusion_image_table_both_ways():
    text = mixture.conclusion(_numbers(GMM, 1.1, image=((89.3, 5.99), (105.8, 5.62))))
    assert "the VAE is better by 16.50 nats per image (0.370 bits/dim)" in text
    assert "best diagonal mixture, M = 10, 89.30" in text and "code of 8 dimensions in place of 10" in text
    assert "More components do not help" not in text
    text = mixture.conclusion(_numbers(GMM, 1.1, image=((120.0, 5.0), (105.8, 5.62))))
    assert "unexpectedly, the mixture is better by 14.20 nats per image" in text
    numbers = _numbers(GMM, 1.1, image=((89.3, 5.99), (105.8, 5.62)))
    numbers.update(as_numbers({"image_gmm50_ll": 81.84, "image_gmm50_bpd": 6.15}))
    text = mixture.conclusion(numbers)
    assert "More components do not help: M = 50 scores 81.84" in text


def test_conclusion_says_whether_the_vae_curve_follows_the_spiral():
    text = mixture.conclusion(_numbers(GMM, 0.75, curve_dist=0.12))
    assert "on average 0.120 from the nearest of them, more than twice the data's noise σ = 0.03" in text
    assert "has not unrolled the spiral" in text
    text = mixture.conclusion(_numbers(GMM, 1.25, curve_dist=0.01))
    assert "run along the spiral: a point of the spiral is on average 0.010 from the nearest" in text


def test_conclusion_names_the_vae_once_when_it_is_the_closest_model():
    text = mixture.conclusion(_numbers({1: 0.6, 4: 0.85}, 1.2))
    assert "the closest model, the VAE, is 0.120 nats below it (paired standard error 0.005)." in text


# ---------------------------------------------------------------- part 2: the spiral in D dimensions

def _sweep_numbers(vae_below: dict, mix_below: dict, seeds=3, curves=None):
    """{D: [VAE's nats below the ceiling per seed]}, {D: best mixture's} (and {D: [the VAE's curve distance per
    seed]}) -> numbers as the section writes them."""
    from lecture.made_up import as_numbers

    values = {"noise_std": 0.03}
    for d, per in (curves or {}).items():
        values[f"sweep_d{d}_vae_curve"] = sum(per) / len(per)
    for d, per in vae_below.items():
        values[f"sweep_d{d}_vae_below"] = sum(per) / len(per)
        for cov, off in (("full", 0.0), ("diag", 0.5)):
            values[f"sweep_d{d}_{cov}_below"] = mix_below[d] + off
            values[f"sweep_d{d}_{cov}_m"] = 16
            values[f"sweep_d{d}_{cov}_params"] = 1000 * d
    out = as_numbers(values)
    for d, per in vae_below.items():
        out[f"sweep_d{d}_vae_below"]["seeds"] = per
    for d, per in (curves or {}).items():
        out[f"sweep_d{d}_vae_curve"]["seeds"] = per
    return out


def test_sweep_conclusion_in_each_branch():
    from vaekit.lecture.sections import mixture_sweep

    losing = " ".join(mixture_sweep.conclusion(_sweep_numbers({2: [0.5, 0.6, 0.55], 128: [20.0, 21.0, 22.0]},
                                                              {2: 0.01, 128: 0.6})))
    assert "D = 2: the VAE 0.55, the best mixture (full, M = 16, 2,000 parameters) 0.01" in losing
    assert "mean over 3 seeds for the VAE" in losing and "expected shape does not appear" in losing
    winning = " ".join(mixture_sweep.conclusion(_sweep_numbers({2: [0.02, 0.01, 0.01], 128: [0.1, 0.2, 0.1]},
                                                               {2: 0.01, 128: 0.6})))
    assert "beats every finite one tried in every D, in 3 of 3 seeds" not in winning   # D = 2: 0.02 is not < 0.01
    assert "The VAE beats every mixture tried only for D = 128 (in all seeds)" in winning
    everywhere = " ".join(mixture_sweep.conclusion(_sweep_numbers({2: [0.001] * 3, 128: [0.1] * 3}, {2: 0.01, 128: 0.6})))
    assert "The infinite mixture beats every finite one tried in every D, in 3 of 3 seeds." in everywhere
    assert mixture_sweep.conclusion({}) == []
    # how far behind, and whether the decoded curve follows the spiral in D dimensions, counted over the seeds
    closer = " ".join(mixture_sweep.conclusion(_sweep_numbers(
        {2: [0.19, 0.19, 0.2], 128: [1.8, 2.2, 2.8]}, {2: 0.012, 128: 0.6},
        curves={2: [0.011, 0.01, 0.012], 128: [0.05, 0.054, 0.063]})))
    assert "in every D a finite mixture comes closer to the true density than this VAE, which falls further" in closer
    assert ("From D = 2 to D = 128 the best mixture's distance below the ceiling grows 50-fold (0.012 to 0.60 nats "
            "per point), the VAE's 12-fold (0.19 to 2.27).") in closer
    assert ("The VAE's decoded curve μ(z) lies on average this far from the spiral, and closer than the noise "
            "σ = 0.03 in so many seeds: D = 2: 0.011 (3 of 3); D = 128: 0.056 (0 of 3).") in closer
    narrowing = " ".join(mixture_sweep.conclusion(_sweep_numbers({2: [0.5] * 3, 128: [0.7] * 3}, {2: 0.01, 128: 0.6})))
    assert "than this VAE." in narrowing and "falls further behind" not in narrowing


def test_mixture_parameter_counts():
    from vaekit.lecture.sections.mixture_sweep import gmm_parameters

    assert gmm_parameters("diag", 1, 2) == 0 + 2 + 2
    assert gmm_parameters("full", 4, 2) == 3 + 8 + 4 * 3
    assert gmm_parameters("full", 256, 128) == 255 + 256 * 128 + 256 * 128 * 129 // 2


def _seeded(numbers, **per_seed):
    """``numbers`` with seeded measures: {key: [value per seed]} (their mean as the value)."""
    for key, values in per_seed.items():
        numbers[key] = {"value": sum(values) / len(values), "unit": "", "label": "", "seeds": values}
    return numbers


def test_conclusion_counts_the_seeds_whose_curve_follows_the_spiral():
    text = mixture.conclusion(_seeded(_numbers(GMM, 1.13), vae_coverage=[0.011, 0.012, 0.035]))
    assert "run along the spiral: a point of the spiral is on average 0.019 from the nearest of them (noise " \
           "σ = 0.03; closer than σ in 2 of 3 seeds)" in text
    text = mixture.conclusion(_seeded(_numbers(GMM, 0.75), vae_coverage=[0.15]))
    assert "more than twice the data's noise σ = 0.03 (closer than σ in 0 of 1 seed)" in text


def test_plain_elbo_sentence_is_the_lesson_or_says_it_was_not_needed():
    numbers = _seeded(_numbers({1: 0.6, 4: 0.85}, 1.13, curve_dist=0.011), vae_plain_ll=[0.73, 0.75, 0.74],
                      vae_plain_coverage=[0.15, 0.14, 0.05], vae_seconds=[21.0, 19.0, 20.0],
                      vae_plain_seconds=[4.0, 4.0, 4.0])
    text = mixture.conclusion(numbers)
    assert ("It took annealing the decoder's variance: the same VAE trained by the plain ELBO from a single random "
            "start scores 0.74, and its decoded curve is on average 0.113 from the spiral, more than twice σ in 2 of "
            "3 seeds: it cuts across the arms") in text
    assert "The annealed training takes 5.0 times as long (20 s against 4 s per seed, on one thread)." in text
    numbers = _seeded(numbers, vae_plain_coverage=[0.02, 0.05, 0.03])
    assert "within twice σ in 3 of 3 seeds: here it did not need the annealing." in mixture.conclusion(numbers)


def test_conclusion_says_when_the_sum_over_z_has_not_converged():
    numbers = _seeded(_numbers(GMM, 1.13), vae_ll=[1.149, 1.129, 1.126])
    numbers["vae_ll_check"]["value"] = 1.152
    assert ("The sum has not converged: with 8,192 values of z the first seed's score moves by 0.003 nats per "
            "point.") in mixture.conclusion(numbers)
    assert "not converged" not in mixture.conclusion(_numbers(GMM, 1.13))     # 0.0002: converged


def test_score_verdict_counts_the_seeds_against_the_ceiling_and_the_best_mixture():
    short = mixture.conclusion(_seeded(_numbers(GMM, 1.13), vae_gap=[-0.19, -0.18, -0.20]))
    assert ("Where the claim still fails: the VAE's score stays 0.19 nats per point below the ceiling (within 0.05 of "
            "it in 0 of 3 seeds) and below the best mixture's (M = 16, 0.010 below the ceiling) in 3 of 3 seeds, so on "
            "this spiral a finite mixture still beats the infinite one.") in short
    mixed = mixture.conclusion(_seeded(_numbers(GMM, 1.30), vae_gap=[-0.04, -0.005, -0.02]))
    assert ("The VAE's score is 0.02 nats per point below the ceiling (within 0.05 of it in 3 of 3 seeds), below the "
            "best mixture's (M = 16, 0.010 below the ceiling) in 2 of 3 seeds.") in mixed
    wins = mixture.conclusion(_seeded(_numbers(GMM, 1.32), vae_gap=[-0.004]))
    assert ("The VAE comes within 0.05 nats per point of the ceiling and scores at least as well as the best mixture "
            "(M = 16) in 1 of 1 seed: here the infinite mixture wins.") in wins


def test_conclusion_in_chinese():
    with language("zh-TW"):
        text = mixture.conclusion(_numbers(GMM, 1.10, image=((89.3, 5.99), (105.8, 5.62))))
    assert "混合模型的分數是每點 0.60 (M = 1)、0.85 (M = 4)、1.31 (M = 16)、1.30 (M = 64) nats" in text
    assert "VAE 的分數介於 M = 4（0.85）與 M = 16（1.31）的混合模型之間：有限混合模型大約需要 16 個成分" in text
    assert "沒有任何模型超出上限到超過誤差範圍（多於 2 個成對標準誤）的程度，理應如此。" in text
    assert "VAE 每張影像好了 16.50 nats（0.370 bits/dim），用的是 8 維的編碼，而不是 10 個成分。" in text
    assert english_words(text) == []
