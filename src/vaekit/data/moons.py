"""Generated moon images: a lit disc at a continuous phase, from full moon to a thin crescent.

The lecture's first example: an autoencoder's decodes between a full moon and a crescent are
blends of the two (no moon at all), a VAE's are moons of intermediate phase.  The answer is
known for every image, so "is this a moon?" is a distance to the nearest clean moon.

Geometry.  A disc of radius r = 0.36·size, centred in the image, is a sphere seen from the
front, lit from a direction at angle π·phase from the viewer.  In disc coordinates (x to the
right, y down, origin at the centre) the terminator is the projected great circle
x = t·sqrt(r² − y²), t = −cos(π·phase), and a disc point is lit when x > t·sqrt(r² − y²):

    phase 0    t = −1   every point lit                    (full moon)
    phase 0.5  t =  0   the right half lit                 (half moon)
    phase 1    t = +1   nothing lit                        (new moon)

The lit area is ∫ (1 − t)·sqrt(r² − y²) dy = πr²·(1 + cos π·phase)/2, strictly decreasing
on [0, 1].  Pixels are anti-aliased by supersampling (SUPERSAMPLE² points per pixel), so an
image changes continuously (in steps of 1/SUPERSAMPLE² of a pixel) with phase and offset.

Generated data (``generate_moons``, the registry's ``moons``): phase ~ U[0, PHASE_MAX] (never
dark), centre offset (dx, dy) ~ U[−JITTER·size, +JITTER·size]² pixels, lit value ~
U[BRIGHTNESS_LOW, BRIGHTNESS_HIGH]; dark side and background 0; stored as uint8
round(255·value).  Splits (SPLIT_SIZES, SPLIT_SEEDS): train 6,000, val 1,000, test 1,000
images, each drawn with its own seed (1, 2, 3).  Labels: the phase class, PHASE_CLASSES (``phase_class``).

The lecture's own setting (``generate_moon_pair``, the registry's ``moons-pair``): full moons and
half moons only, phase ~ U[0, PAIR_WIDTH] or U[0.5 − PAIR_WIDTH, 0.5 + PAIR_WIDTH] with equal
chance, jittered and lit as above, nothing in between.  Splits (PAIR_SPLIT_SIZES,
PAIR_SPLIT_SEEDS): train 3,000, val 500, test 500.  Labels: the phase class (full or half).
"""

from __future__ import annotations

import functools
import math

import torch

from .. import validate
from ..errors import DataError
from .splits import check_split

RADIUS = 0.36                  # disc radius, as a fraction of the image size
SUPERSAMPLE = 4                # sample points per pixel along each axis (4 x 4 per pixel)
PHASE_MAX = 0.85               # generated phases are U[0, PHASE_MAX]: a crescent of ~5% of the disc at most
JITTER = 0.05                  # centre offsets are U[-JITTER·size, +JITTER·size] pixels, per axis
# Lit value 1: binary discs whose only grey pixels are the anti-aliased edges, so the Bernoulli
# binarisation of training adds little noise (a lit value of 0.8-1.0 made every training image
# speckled, and the decoders learnt speckled grey discs).  Kept as a range for the generator's API;
# the brightness jitter of a single image is ``render_moons(..., brightness=)``.
BRIGHTNESS_LOW, BRIGHTNESS_HIGH = 1.0, 1.0
SWEEP_BRIGHTNESS = 1.0         # lit value of the clean references (the data's)
SPLIT_SIZES = {"train": 6000, "val": 1000, "test": 1000}
SPLIT_SEEDS = {"train": 1, "val": 2, "test": 3}
# Phase classes: full moon below 0.15, gibbous below 0.4, half moon below 0.6, crescent above.
PHASE_CLASSES = ("full", "gibbous", "half", "crescent")
PHASE_BOUNDS = (0.15, 0.4, 0.6)
# The lecture's pair: full moons (phase near 0) and half moons (near 0.5), nothing in between.
PAIR_PHASES = (0.0, 0.5)
PAIR_WIDTH = 0.03
PAIR_SPLIT_SIZES = {"train": 3000, "val": 500, "test": 500}
PAIR_SPLIT_SEEDS = {"train": 11, "val": 12, "test": 13}

_CHUNK_POINTS = 1 << 24        # supersampled points rendered at once (~64 MB of float32 per tensor)


def render_moons(phase, size: int = 28, offset=None, brightness=None) -> torch.Tensor:
    """Moon images at the given phases: (N, 1, size, size) float32 in [0, 1].

    phase: a float or (N,) in [0, 1] (0 full, 0.5 half, 1 new; see the module doc).
    offset: None, (2,) or (N, 2): the disc centre's shift (dx, dy) in pixels, dx to the right,
    dy down.  brightness: None (1.0), a float or (N,) in [0, 1]: the value of a fully lit pixel.
    A pixel's value is brightness × the lit fraction of its SUPERSAMPLE² sample points.
    """
    phase = _as_float64("phase", phase)
    n = phase.numel()
    phase = phase.reshape(n)
    if n and not ((phase >= 0) & (phase <= 1)).all():
        raise DataError(f"phase: expected values in [0, 1], got {_range(phase)}")
    size = validate.size("size", size)
    offset = torch.zeros(n, 2, dtype=torch.float64) if offset is None else _as_float64("offset", offset)
    if offset.shape not in ((2,), (n, 2)) or not torch.isfinite(offset).all():
        raise DataError(f"offset: expected finite (dx, dy) pixels of shape (2,) or ({n}, 2), got "
                        f"{tuple(offset.shape)}")
    offset = offset.expand(n, 2)
    brightness = torch.ones(()) if brightness is None else _as_float64("brightness", brightness)
    if brightness.numel() not in (1, n) or not ((brightness >= 0) & (brightness <= 1)).all():
        raise DataError(f"brightness: expected one value or {n} values in [0, 1], got shape "
                        f"{tuple(brightness.shape)}, {_range(brightness)}")
    brightness = brightness.reshape(-1).expand(n)

    k = SUPERSAMPLE
    points = (torch.arange(size * k, dtype=torch.float32) + 0.5) / k     # sample positions, pixels
    r = RADIUS * size
    t = -torch.cos(math.pi * phase).float()                               # (N,) terminator position
    out = torch.empty(n, 1, size, size)
    chunk = max(1, _CHUNK_POINTS // (size * k) ** 2)
    for start in range(0, n, chunk):
        part = slice(start, start + chunk)
        centre = size / 2 + offset[part].float()                          # (B, 2) as (x, y)
        x = points[None, None, :] - centre[:, 0, None, None]              # (B, 1, Sk)
        y = points[None, :, None] - centre[:, 1, None, None]              # (B, Sk, 1)
        half_chord = (r * r - y * y).clamp_(min=0).sqrt_()                # sqrt(r² − y²), (B, Sk, 1)
        lit = (x * x + y * y < r * r) & (x > t[part, None, None] * half_chord)   # (B, Sk, Sk)
        coverage = lit.float().view(-1, size, k, size, k).mean(dim=(2, 4))       # (B, S, S)
        out[part, 0] = coverage * brightness[part, None, None].float()
    return out


def generate_moons(n: int, seed: int, size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """n jittered moons: images (n, 1, size, size) uint8 and their phases (n,) float32.

    Phases ~ U[0, PHASE_MAX], offsets ~ U[−JITTER·size, JITTER·size]² pixels, brightness ~
    U[BRIGHTNESS_LOW, BRIGHTNESS_HIGH], drawn in that order from torch.Generator(seed):
    the same images for the same (n, seed, size) on every machine.
    """
    n = validate.integer("n", n, low=0)
    g = torch.Generator().manual_seed(int(seed))
    phases = (torch.rand(n, generator=g, dtype=torch.float64) * PHASE_MAX).float()
    offsets = (torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1) * (JITTER * size)
    spread = BRIGHTNESS_HIGH - BRIGHTNESS_LOW
    brightness = BRIGHTNESS_LOW + spread * torch.rand(n, generator=g, dtype=torch.float64)
    images = render_moons(phases.double(), size, offsets, brightness)
    return images.mul_(255).round_().to(torch.uint8), phases


def generate_moon_pair(n: int, seed: int, size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """n jittered full or half moons: images (n, 1, size, size) uint8 and their phases (n,) float32.

    Each image is a full moon (phase ~ U[0, PAIR_WIDTH]) or a half moon (phase ~ U[0.5 −
    PAIR_WIDTH, 0.5 + PAIR_WIDTH]) with probability 1/2; offsets and lit value as in
    ``generate_moons``.  Drawn in that order (which moon, the phase's position in its band,
    offsets, brightness) from torch.Generator(seed).
    """
    n = validate.integer("n", n, low=0)
    g = torch.Generator().manual_seed(int(seed))
    half = torch.rand(n, generator=g, dtype=torch.float64) < 0.5
    u = torch.rand(n, generator=g, dtype=torch.float64)
    phases = torch.where(half, PAIR_PHASES[1] + PAIR_WIDTH * (2 * u - 1), PAIR_PHASES[0] + PAIR_WIDTH * u)
    offsets = (torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1) * (JITTER * size)
    spread = BRIGHTNESS_HIGH - BRIGHTNESS_LOW
    brightness = BRIGHTNESS_LOW + spread * torch.rand(n, generator=g, dtype=torch.float64)
    images = render_moons(phases, size, offsets, brightness)
    return images.mul_(255).round_().to(torch.uint8), phases.float()


def phase_class(phases: torch.Tensor) -> torch.Tensor:
    """(N,) phases -> (N,) int64 indices into PHASE_CLASSES (full, gibbous, half, crescent)."""
    bounds = torch.tensor(PHASE_BOUNDS, dtype=phases.dtype, device=phases.device)
    return torch.bucketize(phases, bounds, right=True)


def moons_split(split: str, size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of the ``moons`` dataset: images (N, 1, size, size) uint8 and phases (N,) float32.

    N and the seed are SPLIT_SIZES[split] and SPLIT_SEEDS[split] (train 6,000, val 1,000,
    test 1,000; seeds 1, 2, 3).
    """
    check_split(split)
    images, phases = _split(split, validate.size("size", size))
    return images.clone(), phases.clone()


def moon_pair_split(split: str, size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of the ``moons-pair`` dataset (full and half moons only): images (N, 1, size,
    size) uint8 and phases (N,) float32; N and the seed are PAIR_SPLIT_SIZES[split] and
    PAIR_SPLIT_SEEDS[split] (train 3,000, val 500, test 500; seeds 11, 12, 13)."""
    check_split(split)
    images, phases = _split(split, validate.size("size", size), pair=True)
    return images.clone(), phases.clone()


@functools.lru_cache(maxsize=12)
def _split(split: str, size: int, pair: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Rendered once per process (6,000 anti-aliased moons take seconds; every run of the
    lecture that trains on moons reads all three splits)."""
    if pair:
        return generate_moon_pair(PAIR_SPLIT_SIZES[split], PAIR_SPLIT_SEEDS[split], size)
    return generate_moons(SPLIT_SIZES[split], SPLIT_SEEDS[split], size)


def moon_sweep(size: int = 28, n_phases: int = 256, n_offsets: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean reference moons covering the data: images (P, 1, size, size) float32, phases (P,).

    Phases: n_phases evenly spaced on [0, PHASE_MAX], the range of the data.  Lit value
    SWEEP_BRIGHTNESS (the middle of the data's range).  Each phase is drawn at the
    n_offsets × n_offsets centre offsets (dx, dy) with dx, dy in {(2i + 1)/n_offsets − 1 :
    i < n_offsets}·JITTER·size pixels: the grid that leaves every jittered centre within
    JITTER·size/n_offsets of a reference centre per axis (3: offsets −2/3, 0, +2/3 of the
    jitter; at most 0.47 px away at size 28).  Without it an off-centre data moon would be a
    pixel or so from every reference.  P = n_phases · n_offsets², phase-major: reference
    i·n_offsets² + j has phase i and offset j (row-major over dy, then dx).
    """
    size = validate.size("size", size)
    n_phases = validate.positive_int("n_phases", n_phases)
    n_offsets = validate.positive_int("n_offsets", n_offsets)
    steps = (2 * torch.arange(n_offsets, dtype=torch.float64) + 1) / n_offsets - 1    # (n_offsets,)
    dy, dx = torch.meshgrid(steps, steps, indexing="ij")
    grid = torch.stack([dx.reshape(-1), dy.reshape(-1)], dim=1) * (JITTER * size)   # (n_offsets², 2)
    phases = torch.linspace(0, PHASE_MAX, n_phases, dtype=torch.float64)
    all_phases = phases.repeat_interleave(len(grid))
    images = render_moons(all_phases, size, grid.repeat(n_phases, 1), SWEEP_BRIGHTNESS)
    return images, all_phases.float()


def _as_float64(name: str, value) -> torch.Tensor:
    """``value`` (float, sequence or tensor) as a CPU float64 tensor; DataError if it is not numbers."""
    try:
        return torch.as_tensor(value, dtype=torch.float64).cpu()
    except (TypeError, ValueError, RuntimeError):
        raise DataError(f"{name}: expected a number or a tensor of numbers, got {value!r}") from None


def _range(values: torch.Tensor) -> str:
    """'values from a to b' of a tensor (NaN shown as such)."""
    if values.numel() == 0:
        return "no values"
    return f"values from {values.min().item():g} to {values.max().item():g}"
