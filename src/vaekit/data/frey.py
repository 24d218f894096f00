"""The Frey Face data set (Brendan Frey, via Sam Roweis): 1,965 frames of one face, 28x20, uint8.

The file ``frey_rawface.mat`` is a MATLAB v5 MAT-file holding one variable ``ff``, uint8,
560 x 1965, column-major; each column is one image, so ``ff.T.reshape(-1, 28, 20)`` gives
upright images of 28 rows and 20 columns.  There is no official split; a seeded carve (see
``splits``) gives val = 10% (196 images), test = 10% (196), train = the rest (1,573).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .locate import find_dir
from .splits import carve

FILENAME = "frey_rawface.mat"
SHAPE = (560, 1965)  # (H * W, N) of ``ff``
HEIGHT, WIDTH = 28, 20
SEED = 0
VAL_FRACTION = 0.1
TEST_FRACTION = 0.1


def read_frey(path: str | os.PathLike) -> np.ndarray:
    """All 1,965 images of a frey_rawface.mat file, (1965, 1, 28, 20) uint8."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: expected the Frey Face MAT-file here, found none")
    try:
        mat = loadmat(path)
    except Exception as err:  # loadmat raises anything from IndexError to OSError on a damaged file
        reason = " ".join(f"{type(err).__name__}: {err}".split())
        raise DataError(f"{path}: expected a MATLAB v5 MAT-file, could not read it ({reason})") from None
    if "ff" not in mat:
        names = ", ".join(k for k in mat if not k.startswith("__")) or "none"
        raise DataError(f"{path}: expected a variable 'ff', got variables: {names}")
    ff = mat["ff"]
    if not isinstance(ff, np.ndarray) or ff.dtype != np.uint8 or ff.shape != SHAPE:
        got = f"{ff.dtype} {ff.shape}" if isinstance(ff, np.ndarray) else type(ff).__name__
        raise DataError(f"{path}: expected 'ff' as uint8 of shape {SHAPE}, got {got}")
    return np.ascontiguousarray(ff.T).reshape(-1, 1, HEIGHT, WIDTH)


def load_frey(split: str, data_dir: str | os.PathLike | None = None) -> np.ndarray:
    """images (N, 1, 28, 20) uint8 of ``split`` (Frey Face has no labels)."""
    folder = find_dir("frey", (FILENAME,), data_dir)
    images = read_frey(folder / FILENAME)
    return images[carve(len(images), VAL_FRACTION, TEST_FRACTION, SEED)[split]]
