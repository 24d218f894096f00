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

from importlib import import_module

# The downloader imports no torch; the rest is imported on first use (PEP 562), so the
# download settings (``download.DownloadConfig``) can be read to build the CLI's flags.
from .download import download, verify_checksum

_WHERE = {"DATASETS": "registry", "Dataset": "dataset", "SPLITS": "splits", "load": "registry"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted([*_WHERE, "download", "verify_checksum"])
