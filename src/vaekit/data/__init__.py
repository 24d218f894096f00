"""Datasets as uint8 tensors in memory: MNIST, Fashion-MNIST, scikit-learn digits, Frey Face,
and image folders or .npy/.npz arrays.

    >>> from vaekit.data import load
    >>> ds = load("mnist", "train")          # ds.images: (50000, 1, 28, 28) uint8
    >>> ds.image_shape, len(ds)
    ((1, 28, 28), 50000)

Every bad input (missing, truncated or malformed file, unknown name or split) raises
``vaekit.errors.DataError`` with a one-line message naming the file or value; a bad argument
(an image_size of 0, a negative n) is a ``ConfigError`` from ``vaekit.validate``.
"""

from .dataset import Dataset
from .download import download, verify_checksum
from .registry import DATASETS, load
from .splits import SPLITS

__all__ = ["DATASETS", "SPLITS", "Dataset", "download", "load", "verify_checksum"]
