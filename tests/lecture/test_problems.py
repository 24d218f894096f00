"""Section 5 (problems of VAE): sharpness and nearest-image search on inputs with known answers,
the conclusion on made-up numbers, the figures, and run() on an untrained model and tiny data."""

from pathlib import Path

import pytest
import torch

from vaekit.data.dataset import Dataset
from vaekit.eval.nearest import nearest_images, rms_distance
from vaekit.eval.sharpness import gradient_magnitude, laplacian_variance
from vaekit.lecture.context import Context
from vaekit.lecture.plan import Plan
from vaekit.lecture.sections import problems
from vaekit.models.config import ModelConfig
from vaekit.viz.problems import Pairs, distance_hist_png, mean_vs_draws_png, pairs_png
from vaekit.i18n import language
from lecture.english import english_words
from lecture.made_up import as_numbers
from lecture.untrained import UntrainedCache

PNG = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- sharpness

def test_gradient_magnitude_of_a_ramp_is_its_slope():
    ramp = (torch.arange(8.0) * 0.1).expand(3, 1, 8, 8)          # rises by 0.1 per pixel to the right
    assert torch.allclose(gradient_magnitude(ramp), torch.full((3,), 0.1))
    assert torch.allclose(gradient_magnitude(ramp.transpose(-1, -2)), torch.full((3,), 0.1))   # downwards
    assert gradient_magnitude(torch.full((1, 1, 5, 5), 0.7)).item() == 0


def test_gradient_magnitude_of_a_step_edge():
    step = torch.zeros(1, 1, 4, 4)
    step[..., 2:] = 1                  # the edge lies between columns 1 and 2: 3 of the 3 x 3 differences see it
    assert gradient_magnitude(step).item() == pytest.approx(1 / 3)
    diagonal = torch.tensor([[0.0, 0.0], [0.0, 1.0]]).view(1, 1, 2, 2)    # one pixel, gx = gy = 0
    assert gradient_magnitude(diagonal).item() == 0
    corner = torch.tensor([[1.0, 0.0], [0.0, 0.0]]).view(1, 1, 2, 2)      # gx = gy = -1: sqrt(2)
    assert gradient_magnitude(corner).item() == pytest.approx(2 ** 0.5)


def test_laplacian_variance_known_answers():
    ramp = (torch.arange(8.0) * 0.1).expand(1, 1, 8, 8)
    assert laplacian_variance(ramp).item() == pytest.approx(0, abs=1e-10)
    i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    checker = ((i + j) % 2).float().view(1, 1, 8, 8)                 # Laplacian ±4 on the interior
    assert laplacian_variance(checker).item() == pytest.approx(16)
    dot = torch.zeros(1, 1, 5, 5)
    dot[0, 0, 2, 2] = 1                 # interior 3 x 3: -4 at the centre, 1 at its 4 neighbours, 0 at corners
    assert laplacian_variance(dot).item() == pytest.approx(20 / 9)


def test_sharpness_reads_uint8_and_averages_channels():
    ramp = (torch.arange(8.0) * 0.1).expand(1, 1, 8, 8)
    as_uint8 = (ramp * 255).round().to(torch.uint8)
    assert gradient_magnitude(as_uint8).item() == pytest.approx(0.1, abs=2e-3)
    two = torch.cat([ramp, torch.zeros_like(ramp)], dim=1)               # (1, 2, 8, 8): channels 0.1 and 0
    assert gradient_magnitude(two).item() == pytest.approx(0.05)
    with pytest.raises(ValueError, match="H, W >= 3"):
        laplacian_variance(torch.zeros(1, 1, 2, 2))


# ---------------------------------------------------------------- nearest images

def test_rms_distance_known_answers():
    black, white = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    assert rms_distance(black, white).tolist() == [1.0, 1.0]
    assert rms_distance(black, white / 2).tolist() == [0.5, 0.5]
    half = torch.zeros(1, 1, 4, 4)
    half[..., :2] = 1                              # half of the pixels differ by 1: sqrt(1/2)
    assert rms_distance(black[:1], half).item() == pytest.approx(0.5 ** 0.5)


def test_nearest_images_finds_a_copy_and_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    refs = (torch.rand(500, 1, 6, 6, generator=g) * 255).to(torch.uint8)
    queries = torch.rand(70, 1, 6, 6, generator=g)
    queries[3] = refs[123].float() / 255                       # an exact copy of a reference
    d, index = nearest_images(queries, refs, ref_chunk=37)     # chunks that do not divide 500
    brute = torch.cdist(queries.flatten(1).double(), refs.flatten(1).double() / 255) / 6   # RMS: / sqrt(36)
    want_d, want_i = brute.min(1)
    assert torch.equal(index, want_i)
    assert torch.allclose(d.double(), want_d, atol=1e-6)
    assert index[3].item() == 123 and d[3].item() == pytest.approx(0, abs=1e-6)


def test_nearest_images_checks_its_inputs():
    with pytest.raises(ValueError, match="same"):
        nearest_images(torch.zeros(2, 1, 4, 4), torch.zeros(3, 1, 5, 5))
    with pytest.raises(ValueError, match="empty"):
        nearest_images(torch.zeros(2, 1, 4, 4), torch.zeros(0, 1, 4, 4))


# ---------------------------------------------------------------- conclusion

def numbers(**values):
    base = dict(grad_data=0.42, grad_recon=0.33, grad_samples=0.34, grad_draws=0.57, lap_data=1.05,
                lap_samples=0.53, near_median_samples=0.16, near_median_test=0.133, near_median_recon=0.138,
                near_closer=13.0, near_copies=0.6)
    return as_numbers({**base, **values})


def test_conclusion_blurry_and_no_copying():
    text = problems.conclusion(numbers())
    assert "The samples are blurrier than the data: mean gradient magnitude 0.340 against 0.420 (81% of" in text
    assert "A draw from p(x|z) at the same codes scores 0.570, 1.7× the mean image's" in text
    assert "farther from every training image than held-out test images are (median 0.160 against 0.133" in text
    assert "no sign of copying" in text and "Unexpectedly" not in text


def test_conclusion_not_blurry_and_copying():
    text = problems.conclusion(numbers(grad_samples=0.45, grad_draws=0.4, near_median_samples=0.05,
                                       near_median_recon=0.12, near_closer=95.0, near_copies=60.0))
    assert "Unexpectedly, the samples are not blurrier than the data by the gradient measure: 0.450 against 0.420" in text
    assert "A draw from p(x|z) is no sharper than the mean image (0.400 against 0.450)" in text
    assert "closer to their nearest training image than held-out test images are: median 0.050 against 0.133" in text
    assert "95 % of samples are closer than the median test image" in text
    assert "the copying the lecture warns of" in text


def test_conclusion_closer_but_explained_by_blur_or_alike():
    blur = problems.conclusion(numbers(near_median_samples=0.10, near_median_recon=0.105))
    assert "the gap measures the blur more than copying" in blur
    alike = problems.conclusion(numbers(near_median_samples=0.135))
    assert "about as far from their nearest training image as held-out test images (median 0.135 against 0.133" in alike


def test_conclusion_of_the_blend_measure_in_each_branch():
    blend = dict(blend_median_test=0.09, blend_median_recon=0.072, blend_closer=54.0, blend_k=10)
    alike = problems.conclusion(numbers(blend_median_samples=0.087, **blend))
    assert "the samples leave about as much unexplained as test images do (median residual 0.087 against 0.090" in alike
    more = problems.conclusion(numbers(blend_median_samples=0.12, **blend))
    assert "the samples leave more unexplained than test images do" in more
    blended = problems.conclusion(numbers(blend_median_samples=0.03, **{**blend, "blend_median_recon": 0.06,
                                                                        "blend_closer": 90.0}))
    assert "explained better than test images: median residual 0.030 against 0.090 RMS, and 90 % of samples" in blended
    assert "close to linear combinations of the database, as the lecture warns" in blended
    by_blur = problems.conclusion(numbers(blend_median_samples=0.03, **{**blend, "blend_median_recon": 0.03}))
    assert "this too measures the blur as much as blending" in by_blur
    assert "blends" not in problems.conclusion(numbers())          # a summary without the measure


# ---------------------------------------------------------------- figures and run()

def test_figures_are_png():
    pairs = [Pairs(n, torch.rand(6, 1, 8, 8), torch.rand(6, 1, 8, 8), torch.rand(6)) for n in ("a", "b")]
    assert pairs_png(pairs, per_row=4)[:8] == PNG
    assert distance_hist_png({"samples": torch.rand(50), "test": torch.rand(40)}, 1000)[:8] == PNG
    assert mean_vs_draws_png(torch.rand(3, 1, 8, 8), torch.rand(3, 4, 1, 8, 8), "bernoulli")[:8] == PNG


def FakeCache(root: Path) -> UntrainedCache:
    return UntrainedCache(root, lambda cfg: ModelConfig(image_shape=(1, 8, 8), hidden=(16,), latent=3), seed=2)


def test_run_on_an_untrained_model(tmp_path, monkeypatch):
    g = torch.Generator().manual_seed(0)
    splits = {"train": 300, "test": 40}

    def fake_load(name, split, data_dir=None):
        images = (torch.rand(splits[split], 1, 8, 8, generator=g) * 255).to(torch.uint8)
        return Dataset(name="fake", split=split, images=images, labels=None)

    monkeypatch.setattr(problems, "load", fake_load)
    ctx = Context(tmp_path, Plan(quick=True, device="cpu"), FakeCache(tmp_path / "runs"), torch.device("cpu"))
    section = ctx.finish(problems.run(ctx))
    assert section.id == "problems" and section.number == 5
    assert len(section.figures) == 3
    for f in section.figures:
        assert (tmp_path / f["file"]).read_bytes()[:8] == PNG
    assert section.number_of("n_test") == 40 and section.number_of("n_samples") == problems.MIN_SAMPLES
    assert section.number_of("n_train") == 300
    for key in ("grad_data", "grad_samples", "lap_data", "near_median_samples", "near_median_test"):
        assert section.number_of(key) > 0, key
    assert 0 <= section.number_of("near_closer") <= 100
    assert [row[1] for row in section.tables[0]["rows"]] == [40, 40, 64, 64]
    assert section.conclusion


def test_conclusion_in_chinese():
    with language("zh-TW"):
        text = problems.conclusion(numbers())
    assert "樣本比資料模糊：平均梯度大小 0.340，資料是 0.420（資料的 81%），拉普拉斯運算的變異數 0.530，資料是 1.050" in text
    assert "在同樣的編碼上從 p(x|z) 抽樣，分數是 0.570，是平均影像的 1.7 倍" in text
    assert "樣本離所有訓練影像都比保留的測試影像更遠（RMS 距離中位數 0.160，測試影像是 0.133" in text
    assert english_words(text) == []
