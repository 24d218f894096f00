"""MNIST and Fashion-MNIST from their four official IDX files (each plain or gzipped).

Splits: ``train`` = the first 50,000 of the 60,000 official training images, ``val`` = the
last 10,000, ``test`` = the official 10,000 t10k images.  Both datasets have exactly these
counts; any other count means a wrong or damaged file and is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .idx import read_idx
from .locate import find_dir

NAMES = ("mnist", "fashion-mnist")
FILES = {  # official part -> (images file, labels file), without the optional .gz
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
COUNTS = {"train": 60_000, "test": 10_000}
TRAIN_SIZE = 50_000  # the rest of the official training set is the val split
SIZE = 28  # images are SIZE x SIZE
CLASSES = 10

ALL_FILES = tuple(f + ext for pair in FILES.values() for f in pair for ext in ("", ".gz"))


def resolve(folder: Path, base: str) -> Path:
    """``folder/base`` if present, else ``folder/base.gz``; DataError naming both if neither is."""
    for path in (folder / base, folder / (base + ".gz")):
        if path.is_file():
            return path
    raise DataError(f"{folder / base}: expected this IDX file (or {base}.gz) in {folder}, found neither")


def load_mnist(name: str, split: str, data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """images (N, 1, 28, 28) uint8 and labels (N,) int64 of ``split`` of mnist or fashion-mnist."""
    folder = find_dir(name, ALL_FILES, data_dir)
    part = "test" if split == "test" else "train"
    images_path, labels_path = (resolve(folder, f) for f in FILES[part])
    images = read_idx(images_path, 3, "images")
    labels = read_idx(labels_path, 1, "labels")
    if len(images) != len(labels):
        raise DataError(f"{images_path}: expected as many images as {labels_path.name} has labels "
                        f"({len(labels)}), got {len(images)} images")
    if images.shape[1:] != (SIZE, SIZE):
        raise DataError(f"{images_path}: expected {SIZE}x{SIZE} images, got {images.shape[1]}x{images.shape[2]}")
    if len(images) != COUNTS[part]:
        raise DataError(f"{images_path}: expected {COUNTS[part]} images in the official {name} {part} set, "
                        f"got {len(images)}")
    if labels.max() >= CLASSES:
        raise DataError(f"{labels_path}: expected labels 0..{CLASSES - 1}, got a label {labels.max()}")
    rows = {"train": slice(0, TRAIN_SIZE), "val": slice(TRAIN_SIZE, None), "test": slice(None)}[split]
    # Copy only the split kept (the parsed arrays are read-only views of the file's bytes).
    return images[rows, None].copy(), labels[rows].astype(np.int64)
