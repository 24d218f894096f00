"""Section 1 (the moon): its conclusion on made-up numbers, its figures, and run() end to end on
untrained models (no training: the runs are replaced by freshly built models)."""

from pathlib import Path

import torch

from vaekit.data.moons import SPLIT_SEEDS
from vaekit.lecture.cache import Trained
from vaekit.lecture.context import Context
from vaekit.lecture.plan import Plan
from vaekit.lecture.sections import moon
from vaekit.models.config import ModelConfig
from vaekit.models import build_model
from vaekit.viz.codes import Plane, Strip, code_plane_png, mosaic, path_curves_png, path_strips_png
from lecture.numbers import as_numbers

PNG = b"\x89PNG\r\n\x1a\n"


def numbers(**values):
    base = dict(moon_median=0.055, moon_q95=0.086, path_ae=0.15, path_vae=0.07, grid_ae=0.14, grid_vae=0.08,
                path_max_ae=0.2, path_max_vae=0.09, offmoon_grid_ae=60.0, offmoon_grid_vae=20.0,
                phase_first_ae=0.02, phase_last_ae=0.5, phase_back_ae=2, phase_jump_ae=0.3,
                phase_first_vae=0.03, phase_last_vae=0.48, phase_back_vae=0, phase_jump_vae=0.05)
    return as_numbers({**base, **values})


def test_conclusion_when_the_vae_is_closer_and_in_order():
    text = moon.conclusion(numbers())
    assert "the VAE's decodes stay closer to a true moon than the AE's: 0.070 against 0.150" in text
    assert "2.1× farther" in text
    assert "the VAE's decodes are closer: 0.080 for the VAE against 0.140 for the AE; 60 % of the AE's grid decodes are no moon, 20 %" in text
    assert "rises along the VAE's path from 0.03 to 0.48 without going back" in text
    assert "The AE's does not (2 step(s) back, largest step 0.30)" in text
    assert "Unexpectedly" not in text and "however" not in text


def test_conclusion_says_when_the_expected_effect_did_not_appear():
    text = moon.conclusion(numbers(path_ae=0.06, path_vae=0.09, grid_ae=0.07, grid_vae=0.1,
                                   phase_back_vae=1, phase_jump_vae=0.25, phase_back_ae=0, phase_jump_ae=0.05))
    assert "Unexpectedly, the AE's path decodes are closer to a true moon than the VAE's: 0.060 against 0.090" in text
    assert "Over the code plane (mean ± 2.5 std of each model's codes) the VAE's decodes are farther from a moon: 0.100 against 0.070" in text
    assert "does not pass through the phases strictly in order" in text and "1 step(s) back" in text
    assert "The AE's nearest phases are in order (largest step 0.05): on these data" in text
    assert "however" not in text


def test_conclusion_calls_distances_within_five_percent_equal():
    text = moon.conclusion(numbers(path_ae=0.065, path_vae=0.064, grid_ae=0.081, grid_vae=0.082))
    assert "the two models' decodes are about equally far from a true moon: 0.064 for the VAE against 0.065" in text
    assert "does not show on this path" in text
    assert "the two are about equally far from a moon: 0.082 for the VAE against 0.081 for the AE" in text
    assert "closer" not in text.split("On the grid")[0]


def test_conclusion_ae_in_order_but_farther():
    text = moon.conclusion(numbers(phase_back_ae=0, phase_jump_ae=0.06, path_ae=0.08, grid_ae=0.07))
    assert "the AE 1.1× farther" in text
    assert "Over the code plane (mean ± 2.5 std of each model's codes) the VAE's decodes are farther from a moon: 0.080" in text
    assert "The AE's nearest phases are in order too (largest step 0.06), but its decodes are farther" in text
    assert "the worst is 0.200 from any true moon, the VAE's worst 0.090" in text


def test_spread_range_and_grid():
    lo, hi = moon._spread_range(torch.tensor([[0.0, -1.0], [2.0, 1.0]]))    # mean (1, 0), std (√2, √2)
    assert torch.allclose(torch.tensor(lo), torch.tensor([1 - 2.5 * 2 ** 0.5, -2.5 * 2 ** 0.5]))
    assert torch.allclose(torch.tensor(hi), torch.tensor([1 + 2.5 * 2 ** 0.5, 2.5 * 2 ** 0.5]))
    g = moon._grid((0.0, 10.0), (1.0, 20.0))
    assert g.shape == (moon.GRID ** 2, 2) and g[0].tolist() == [0.0, 10.0] and g[1, 1] == 10.0
    assert g[-1].tolist() == [1.0, 20.0]


def test_conclusion_reports_the_range_grid():
    text = moon.conclusion(numbers(grid_range_ae=0.05, grid_range_vae=0.04))
    assert "the VAE scores 0.040 and the AE 0.050 (the VAE closer)" in text


def test_grid_range_is_the_codes_range_widened():
    lo, hi = moon._grid_range(torch.tensor([[0.0, -1.0], [10.0, 1.0], [5.0, 0.0]]))
    assert torch.allclose(torch.tensor(lo), torch.tensor([-0.5, -1.1]))
    assert torch.allclose(torch.tensor(hi), torch.tensor([10.5, 1.1]))


def test_fresh_moons_are_none_of_the_splits():
    assert moon.FRESH_SEED not in SPLIT_SEEDS.values()


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


class FakeCache:
    """Freshly built (untrained) models in place of the plan's runs."""

    def __init__(self, root: Path):
        self.root = root

    def get(self, name, cfg):
        config = ModelConfig(kind=cfg.model, image_shape=(1, 28, 28), hidden=(32,), latent=2)
        model = build_model(config, seed=1).eval()
        return Trained(name, self.root / name, cfg, model, [], cached=True)


def test_run_on_untrained_models(tmp_path):
    ctx = Context(tmp_path, Plan(quick=True, device="cpu"), FakeCache(tmp_path / "runs"), torch.device("cpu"))
    section = ctx.finish(moon.run(ctx))
    assert section.id == "moon" and section.number == 1
    assert [f["file"].split(".")[0] for f in section.figures] == ["figures/moon-path", "figures/moon-path-distance",
                                                                   "figures/moon-plane"]
    for f in section.figures:
        assert (tmp_path / f["file"]).read_bytes()[:8] == PNG
    for key in ("path_ae", "path_vae", "grid_ae", "grid_vae", "path_ratio", "grid_ratio", "moon_median"):
        assert 0 < section.number_of(key) < 10, key
    assert section.number_of("path_ratio") == section.number_of("path_ae") / section.number_of("path_vae")
    assert len(section.tables[0]["rows"]) == moon.PATH_STEPS
    assert section.conclusion and section.runs == ["runs/moon-ae", "runs/moon-vae"]
