"""Section 1 (the moon): its conclusion on made-up numbers, its figures, and run() end to end on
untrained models (no training: the runs are replaced by freshly built models)."""

from pathlib import Path

import torch

from vaekit.data.moons import PAIR_SPLIT_SEEDS, SPLIT_SEEDS
from vaekit.lecture.context import Context
from vaekit.lecture.plan import Plan
from vaekit.lecture.sections import moon, moon_all_phases
from vaekit.models.config import ModelConfig
from vaekit.viz.codes import Plane, Strip, code_plane_png, mosaic, path_curves_png, path_strips_png
from vaekit.i18n import language
from lecture.english import english_words
from lecture.made_up import as_numbers
from lecture.untrained import UntrainedCache

PNG = b"\x89PNG\r\n\x1a\n"


def numbers(**values):
    base = dict(moon_median=0.055, moon_q95=0.086, path_ae=0.15, path_vae=0.07, grid_ae=0.14, grid_vae=0.08,
                path_max_ae=0.2, path_max_vae=0.09, offmoon_grid_ae=60.0, offmoon_grid_vae=20.0,
                phase_first_ae=0.02, phase_last_ae=0.5, phase_back_ae=2, phase_jump_ae=0.3,
                phase_first_vae=0.03, phase_last_vae=0.48, phase_back_vae=0, phase_jump_vae=0.05)
    return as_numbers({**base, **values})


def test_conclusion_when_the_vae_is_closer_and_in_order():
    text = moon_all_phases.conclusion(numbers())
    assert "the VAE's decodes stay closer to a true moon than the AE's: 0.070 against 0.150" in text
    assert "2.1× farther" in text
    assert "the VAE's decodes are closer: 0.080 for the VAE against 0.140 for the AE; 60 % of the AE's grid decodes are no moon, 20 %" in text
    assert "rises along the VAE's path from 0.03 to 0.48 without going back" in text
    assert "The AE's does not (2 step(s) back, largest step 0.30)" in text
    assert "Unexpectedly" not in text and "however" not in text


def test_conclusion_says_when_the_expected_effect_did_not_appear():
    text = moon_all_phases.conclusion(numbers(path_ae=0.06, path_vae=0.09, grid_ae=0.07, grid_vae=0.1,
                                   phase_back_vae=1, phase_jump_vae=0.25, phase_back_ae=0, phase_jump_ae=0.05))
    assert "Unexpectedly, the AE's path decodes are closer to a true moon than the VAE's: 0.060 against 0.090" in text
    assert "Over the code plane (mean ± 2.5 std of each model's codes) the VAE's decodes are farther from a moon: 0.100 against 0.070" in text
    assert "does not pass through the phases strictly in order" in text and "1 step(s) back" in text
    assert "The AE's nearest phases are in order (largest step 0.05): on these data" in text
    assert "however" not in text


def test_conclusion_calls_distances_within_five_percent_equal():
    text = moon_all_phases.conclusion(numbers(path_ae=0.065, path_vae=0.064, grid_ae=0.081, grid_vae=0.082))
    assert "the two models' decodes are about equally far from a true moon: 0.064 for the VAE against 0.065" in text
    assert "does not show on this path" in text
    assert "the two are about equally far from a moon: 0.082 for the VAE against 0.081 for the AE" in text
    assert "closer" not in text.split("On the grid")[0]


def test_conclusion_ae_in_order_but_farther():
    text = moon_all_phases.conclusion(numbers(phase_back_ae=0, phase_jump_ae=0.06, path_ae=0.08, grid_ae=0.07))
    assert "the AE 1.1× farther" in text
    assert "Over the code plane (mean ± 2.5 std of each model's codes) the VAE's decodes are farther from a moon: 0.080" in text
    assert "The AE's nearest phases are in order too (largest step 0.06), but its decodes are farther" in text
    assert "the worst is 0.200 from any true moon, the VAE's worst 0.090" in text


def test_spread_range_and_grid():
    lo, hi = moon_all_phases._spread_range(torch.tensor([[0.0, -1.0], [2.0, 1.0]]))    # mean (1, 0), std (√2, √2)
    assert torch.allclose(torch.tensor(lo), torch.tensor([1 - 2.5 * 2 ** 0.5, -2.5 * 2 ** 0.5]))
    assert torch.allclose(torch.tensor(hi), torch.tensor([1 + 2.5 * 2 ** 0.5, 2.5 * 2 ** 0.5]))
    g = moon_all_phases._grid((0.0, 10.0), (1.0, 20.0))
    assert g.shape == (moon_all_phases.GRID ** 2, 2) and g[0].tolist() == [0.0, 10.0] and g[1, 1] == 10.0
    assert g[-1].tolist() == [1.0, 20.0]


def test_conclusion_reports_the_range_grid():
    text = moon_all_phases.conclusion(numbers(grid_range_ae=0.05, grid_range_vae=0.04))
    assert "the VAE scores 0.040 and the AE 0.050 (the VAE closer)" in text


def test_grid_range_is_the_codes_range_widened():
    lo, hi = moon_all_phases._grid_range(torch.tensor([[0.0, -1.0], [10.0, 1.0], [5.0, 0.0]]))
    assert torch.allclose(torch.tensor(lo), torch.tensor([-0.5, -1.1]))
    assert torch.allclose(torch.tensor(hi), torch.tensor([10.5, 1.1]))


def test_fresh_moons_are_none_of_the_splits():
    assert moon_all_phases.FRESH_SEED not in SPLIT_SEEDS.values()
    assert moon.FRESH_SEED not in PAIR_SPLIT_SEEDS.values()


def pair_numbers(seeds=3, **values):
    """The pair setting's numbers: each headline measure with per-seed values (a list) or one value."""
    base = dict(pair_band_moon_vae=[70.0, 69.0, 72.0], pair_band_moon_ae=[60.0, 58.0, 61.0],
                pair_path_moon_vae=[80.0, 85.0, 90.0], pair_path_moon_ae=[70.0, 80.0, 88.0],
                pair_path_new_vae=[0.0, 4.8, 0.0], pair_path_new_ae=[0.0, 0.0, 0.0],
                pair_band_new_vae=[2.0, 2.0, 3.0], pair_band_new_ae=[1.0, 2.0, 3.0])
    base.update(values)
    out = as_numbers({**{k: (sum(v) / len(v) if isinstance(v, list) else v) for k, v in base.items()},
                      "pair_real_new": 0.0, "pair_moon_q95": 0.058, "fair_draw_moon": 0.0, "fair_draw_d": 0.15,
                      **{f"fair_{f}_{m}": 1.0 for f in ("beta", "long")
                         for m in ("path_moon", "path_new", "band_moon", "band_new")}})
    for k, v in base.items():
        if isinstance(v, list):
            out[k]["seeds"] = v
    return {**numbers(), **out}


def test_pair_conclusion_counts_the_seeds_where_the_vae_wins():
    text = moon.conclusion(pair_numbers(), 3)
    assert ("the VAE's codes between the two clusters decode to moons more often than the AE's in 3 of 3 seeds: "
            "70 % of the region's decodes against 60 %") in text
    # along the path: over 5 points in seeds 1 and 2 only (80 vs 70, 85 vs 80 is not over 5, 90 vs 88 not)
    assert "85 % of the VAE's decodes are moons and 79 % of the AE's (the VAE more often by over 5 points in 1 of 3 seeds)" in text
    assert "But the lecture's in-between moon does not appear: only 2 % of the VAE's path decodes" in text
    assert "its path has one in 1 of 3 seeds" in text
    assert "Given a fair test on the first seed, it still does not" in text
    assert "With every phase in the training data (the contrast below): Along the path" in text


def test_pair_conclusion_when_neither_model_wins_and_when_the_ae_does():
    text = moon.conclusion(pair_numbers(pair_band_moon_ae=[70.0, 75.0, 60.0]), 3)
    assert "decodes to moons about as often for both models: 70 % for the VAE against 68 % for the AE" in text
    assert "in 1 of 3 seeds, the AE in 1" in text
    text = moon.conclusion(pair_numbers(pair_band_moon_ae=[80.0, 80.0, 80.0]), 3)
    assert "Unexpectedly, trained on full and half moons only, the AE's codes" in text and "in 3 of 3 seeds" in text


def test_pair_conclusion_when_new_moons_appear():
    text = moon.conclusion(pair_numbers(pair_path_new_vae=[30.0, 20.0, 25.0], pair_band_new_vae=[22.0, 20.0, 18.0]), 3)
    assert "The VAE's in-between codes do decode to moons of a phase it never saw (between 0.1 and 0.4): 25 %" in text
    assert "at least one such moon in 3 of 3 seeds" in text and "does not appear" not in text


def test_band_runs_between_the_clusters():
    a, b = torch.tensor([0.0, 0.0]), torch.tensor([4.0, 0.0])
    codes = torch.tensor([[0.0, -1.0], [0.0, 1.0], [4.0, -1.0], [4.0, 1.0]])     # std 1.155 across the axis
    band = moon.band_codes(a, b, codes).view(moon.BAND_STEPS, moon.BAND_STEPS, 2)
    w = moon.BAND_SPREAD * codes[:, 1].std()
    assert torch.allclose(band[0, 0], torch.tensor([0.0, -w])) and torch.allclose(band[-1, -1], torch.tensor([4.0, w]))
    assert torch.allclose(band[:, moon.BAND_STEPS // 2, 1], torch.zeros(moon.BAND_STEPS), atol=1e-6)   # the path


def test_a_new_moon_is_a_moon_of_an_unseen_phase():
    d = torch.tensor([0.01, 0.01, 0.2, 0.01, 0.01])
    phases = torch.tensor([0.05, 0.2, 0.2, 0.1, 0.45])
    assert moon._is_new(d, phases, 0.05).tolist() == [False, True, False, False, False]


def test_mosaic_places_images_with_gaps():
    images = torch.arange(2 * 3 * 4, dtype=torch.float32).view(2, 3, 1, 2, 2) / 24   # (R=2, K=3, 1, 2, 2)
    out = mosaic(images, gap=1)
    assert out.shape == (2 * 3 - 1, 3 * 3 - 1)
    assert out[0, 3] == images[0, 1, 0, 0, 0].item() and out[4, 7] == images[1, 2, 0, 1, 1].item()
    assert torch.isnan(torch.from_numpy(out[2])).all() and torch.isnan(torch.from_numpy(out[:, 2])).all()


def test_figures_are_png():
    s = 5
    strips = [Strip(n, torch.rand(s, 1, 8, 8), torch.rand(s, 1, 8, 8), torch.rand(s), torch.rand(s)) for n in ("AE", "VAE")]
    assert path_strips_png(strips, "title")[:8] == PNG
    assert path_curves_png(torch.linspace(0, 1, s), strips, floor=0.05)[:8] == PNG
    planes = [Plane(n, torch.rand(4, 4, 1, 8, 8), (-1.0, -2.0), (1.0, 2.0), torch.randn(30, 2), torch.rand(30),
                    torch.randn(2, 2)) for n in ("AE", "VAE")]
    assert code_plane_png(planes)[:8] == PNG


def FakeCache(root: Path) -> UntrainedCache:
    return UntrainedCache(root, lambda cfg: ModelConfig(kind=cfg.model, image_shape=(1, 28, 28), hidden=(32,), latent=2), seed=1)


def test_run_on_untrained_models(tmp_path):
    ctx = Context(tmp_path, Plan(quick=True, device="cpu", seeds=2), FakeCache(tmp_path / "runs"), torch.device("cpu"))
    section = ctx.finish(moon.run(ctx))
    assert section.id == "moon" and section.number == 1
    assert [f["file"].split(".")[0] for f in section.figures] == [
        "figures/moon-pair-path", "figures/moon-pair-plane", "figures/moon-path", "figures/moon-path-distance",
        "figures/moon-plane"]
    for key in ("pair_band_moon_vae", "pair_path_new_ae"):
        entry = section.numbers[key]
        assert len(entry["seeds"]) == 2 and entry["value"] == sum(entry["seeds"]) / 2 and entry["sd"] is not None
        assert all(0 <= x <= 100 for x in entry["seeds"])
    assert len(section.tables[0]["rows"]) == 2 and section.tables[0]["rows"][1][0] == 1   # one row per seed
    for f in section.figures:
        assert (tmp_path / f["file"]).read_bytes()[:8] == PNG
    for key in ("path_ae", "path_vae", "grid_ae", "grid_vae", "path_ratio", "grid_ratio", "moon_median"):
        assert 0 < section.number_of(key) < 10, key
    assert section.number_of("path_ratio") == section.number_of("path_ae") / section.number_of("path_vae")
    assert len(section.tables[2]["rows"]) == moon_all_phases.PATH_STEPS
    assert section.conclusion.startswith("Trained on full and half moons only")
    assert section.runs == ["runs/moon-pair-ae", "runs/moon-pair-vae", "runs/moon-pair-ae-s1", "runs/moon-pair-vae-s1",
                            "runs/moon-pair-vae-beta4", "runs/moon-pair-vae-long", "runs/moon-ae", "runs/moon-vae"]


def test_pair_conclusion_in_chinese():
    """The same measures in Traditional Chinese (--lang zh-TW): the numbers formatted as in English, no English."""
    with language("zh-TW"):
        text = moon.conclusion(pair_numbers(), 3)
    assert "VAE 兩個群集之間的編碼比 AE 的更常解碼成月亮（3 個種子中有 3 個如此）：區域中的解碼結果有 70 % 是月亮，AE 則是 60 %" in text
    assert "VAE 的解碼結果有 85 % 是月亮，AE 則是 79 %（VAE 多出 5 個百分點以上的，3 個種子中有 1 個）" in text
    assert "但課程說的介於中間的月亮並沒有出現：VAE 路徑上的解碼結果只有 2 %" in text
    assert "訓練資料包含所有月相時（下面的對照組）：沿著從滿月編碼到弦月編碼的路徑，VAE 的解碼結果比 AE 的更接近真實月亮：平均 RMS 距離 0.070，AE 則是 0.150，AE 遠了 2.1 倍" in text
    assert "AE 的路徑沒有（倒退 2 步，單步最大 0.30）。" in text
    assert english_words(text) == [] and ". " not in text
