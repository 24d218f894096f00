"""scikit-learn's 8x8 handwritten digits (1,797 images, shipped inside scikit-learn: no download).

Pixel values 0..16 are rescaled to 0..255 as round(v * 255 / 16) (16 -> 255, 8 -> 128).
There is no official split; a seeded carve (see ``splits``) gives test = 20% (359 images),
val = 10% (179), train = the rest (1,259), the same on every call and machine.
"""

from __future__ import annotations

import numpy as np

from .splits import carve

SEED = 0
VAL_FRACTION = 0.1
TEST_FRACTION = 0.2


def load_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """images (N, 1, 8, 8) uint8 in 0..255 and labels (N,) int64 of ``split``."""
    from sklearn.datasets import load_digits as sklearn_digits  # imported here: sklearn is slow to import

    bunch = sklearn_digits()
    pixels = np.floor(bunch.images * (255 / 16) + 0.5).astype(np.uint8)  # (1797, 8, 8)
    index = carve(len(pixels), VAL_FRACTION, TEST_FRACTION, SEED)[split]
    return pixels[index, None], bunch.target[index].astype(np.int64)
