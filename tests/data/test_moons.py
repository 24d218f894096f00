"""Generated moons: lit areas against the sphere's known answer, determinism, the nearest-moon
distance (real moons near, blends far), and the registry's ``moons``."""

import math

import pytest
import torch

from vaekit.data import load
from vaekit.data.moons import (JITTER, SWEEP_BRIGHTNESS, PHASE_CLASSES, PHASE_MAX, RADIUS, SPLIT_SIZES, generate_moons,
                               moon_sweep, moons_split, phase_class, render_moons)
from vaekit.data.registry import default_likelihood, uses_data_dir
from vaekit.errors import ConfigError, DataError
from vaekit.eval.nearest import nearest_images

SIZE = 28
DISC = math.pi * (RADIUS * SIZE) ** 2      # πr² in pixels: 319.2


@pytest.fixture(scope="module")
def sweep():
    return moon_sweep(SIZE, n_phases=128)


@pytest.fixture(scope="module")
def test_moons():
    return moons_split("test")


def lit_area(phase):
    """Sum of pixel values at brightness 1: the lit area in pixels."""
    return render_moons(phase, SIZE).sum(dim=(1, 2, 3))


def test_lit_area_known_answers():
    # lit area = πr²·(1 + cos π·phase)/2; the 4x4 supersampling is within 0.5% here
    phases = torch.tensor([0.0, 0.25, 0.5, 0.75])
    expected = DISC * (1 + torch.cos(math.pi * phases)) / 2
    torch.testing.assert_close(lit_area(phases), expected, rtol=0.01, atol=0.0)
    assert lit_area(1.0).item() == 0.0


def test_lit_area_decreases_with_phase():
    area = lit_area(torch.linspace(0, 1, 201))
    assert (area.diff() <= 0).all()          # the lit set at a later phase is a subset
    assert area[0] > area[50] > area[100] > area[150] > area[200] == 0


def test_images_change_continuously_with_phase():
    # a step of 0.001 moves the terminator < 0.04 px: at most one column of 4 sub-samples per pixel
    images = render_moons(torch.linspace(0, 1, 1001), SIZE)
    assert images.diff(dim=0).abs().max() <= 0.25 + 1e-6


def test_half_moon_is_the_right_half():
    image = render_moons(0.5, SIZE)[0, 0]
    assert image.shape == (SIZE, SIZE) and image.dtype == torch.float32
    assert image[:, :SIZE // 2].max() == 0 and image[:, SIZE // 2:].sum() > 150
    assert image.max() == 1 and image.min() == 0
    full = render_moons(0.0, SIZE)[0, 0]
    torch.testing.assert_close(full, full.flip(0)) and torch.testing.assert_close(full, full.flip(1))


def test_offset_and_brightness():
    base = render_moons([0.3, 0.3], SIZE, brightness=[1.0, 0.5])
    torch.testing.assert_close(base[1], base[0] / 2)
    shifted = render_moons(0.3, SIZE, offset=(3.0, -2.0))    # 3 px right, 2 px up
    torch.testing.assert_close(shifted[0, 0], base[0, 0].roll((-2, 3), dims=(0, 1)))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(phase=1.5), DataError, r"phase: expected values in \[0, 1\], got values from 1.5 to 1.5"),
    (dict(phase=[0.1, 0.2], offset=torch.zeros(3, 2)), DataError,
     r"offset: expected finite .* \(2,\) or \(2, 2\), got \(3, 2\)"),
    (dict(phase=0.1, brightness=2.0), DataError, r"brightness: expected one value or 1 values in \[0, 1\]"),
    (dict(phase=0.1, size=0), ConfigError, r"^size must be a positive integer; got 0$"),
])
def test_render_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        render_moons(**kwargs)


def test_generate_is_seeded():
    a, phases = generate_moons(64, seed=5)
    b, _ = generate_moons(64, seed=5)
    c, _ = generate_moons(64, seed=6)
    assert a.shape == (64, 1, SIZE, SIZE) and a.dtype == torch.uint8 and phases.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert 0 <= phases.min() and phases.max() <= PHASE_MAX
    assert a[:, :, 0].max() == 0 and a[:, :, :, 0].max() == 0     # background 0 (jitter stays inside)
    assert (a.amax(dim=(1, 2, 3)) >= 0.8 * 255 - 1).all()           # every moon has a fully lit pixel


def test_phase_classes():
    phases = torch.tensor([0.0, 0.149, 0.15, 0.39, 0.4, 0.59, 0.6, 0.85])
    assert phase_class(phases).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert PHASE_CLASSES == ("full", "gibbous", "half", "crescent")


def test_sweep_covers_phases_and_offsets():
    images, phases = moon_sweep(SIZE, n_phases=5, n_offsets=3)
    assert images.shape == (45, 1, SIZE, SIZE) and phases.shape == (45,)
    assert phases[0] == 0 and phases[-1] == pytest.approx(PHASE_MAX)
    step = 2 / 3 * JITTER * SIZE                                     # offsets −2/3, 0, +2/3 of the jitter
    torch.testing.assert_close(images[4:5], render_moons(0.0, SIZE, brightness=SWEEP_BRIGHTNESS))   # the centre one
    torch.testing.assert_close(images[5:6], render_moons(0.0, SIZE, offset=(step, 0.0), brightness=SWEEP_BRIGHTNESS))


def test_nearest_distance_matches_brute_force(sweep, test_moons):
    refs, _ = sweep
    images = test_moons[0][:40].float() / 255
    distances, index = nearest_images(images, refs, ref_chunk=7)
    brute = ((images[:, None] - refs[None]) ** 2).mean(dim=(2, 3, 4)).sqrt()    # (N, P)
    torch.testing.assert_close(distances, brute.min(dim=1).values, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(brute[torch.arange(40), index], distances, rtol=1e-5, atol=1e-6)
    assert nearest_images(refs[:3], refs)[0].max() < 1e-6    # a reference is its own nearest


def test_real_moons_are_near_blends_are_far(sweep, test_moons):
    refs, ref_phases = sweep
    images, phases = test_moons
    real, index = nearest_images(images, refs)                # uint8 is read as pixel/255
    assert real.max() < 0.13                                         # brightness 0.8-1.0 vs 0.9, offsets
    assert (ref_phases[index] - phases).abs().median() < 0.03         # and the nearest has the right phase
    full, crescent = images[phases < 0.1][:40], images[phases > 0.7][:40]
    blends = (full.float() + crescent.float()) / (2 * 255)           # an autoencoder's "no moon"
    far, _ = nearest_images(blends, refs)
    assert far.min() > 0.2 and far.min() > 1.5 * real.max()


def test_registry_moons():
    val = load("moons", "val")
    images, phases = moons_split("val")
    assert val.images.shape == (1000, 1, SIZE, SIZE) and val.images.dtype == torch.uint8
    assert torch.equal(val.images, images) and torch.equal(val.labels, phase_class(phases))
    assert val.labels.dtype == torch.int64 and set(val.labels.tolist()) == {0, 1, 2, 3}
    assert torch.equal(load("moons", "val").images, val.images)
    assert not torch.equal(load("moons", "test").images, val.images)
    assert SPLIT_SIZES == {"train": 6000, "val": 1000, "test": 1000}
    assert default_likelihood("moons") == "bernoulli" and not uses_data_dir("moons")


def test_registry_moons_image_size():
    small = load("moons", "test", image_size=16)                     # drawn at 16 x 16, not resized
    assert torch.equal(small.images, moons_split("test", size=16)[0])
    assert load("moons", "test", image_size=(20, 24)).images.shape == (1000, 1, 20, 24)


def test_moon_pair_has_full_and_half_moons_only():
    from vaekit.data.moons import PAIR_SPLIT_SIZES, PAIR_WIDTH, generate_moon_pair, moon_pair_split

    images, phases = generate_moon_pair(400, seed=5)
    full, half = phases < 0.25, phases >= 0.25
    assert images.shape == (400, 1, 28, 28) and images.dtype == torch.uint8
    assert 150 < full.sum() < 250                                        # either with probability 1/2
    assert phases[full].min() >= 0 and phases[full].max() <= PAIR_WIDTH
    assert (phases[half] - 0.5).abs().max() <= PAIR_WIDTH + 1e-6         # nothing in between
    again, _ = generate_moon_pair(400, seed=5)
    assert torch.equal(images, again)
    ds = load("moons-pair", "val")
    assert len(ds) == PAIR_SPLIT_SIZES["val"] and ds.labels.unique().tolist() == [0, 2]   # full, half
    assert torch.equal(ds.images, moon_pair_split("val")[0])
