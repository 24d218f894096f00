"""``load``: a dataset name (or path) and a split in, a ``Dataset`` in memory out."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..errors import DataError
from .dataset import Dataset
from .digits import load_digits
from .files import is_path, load_path
from .frey import load_frey
from .mnist import NAMES as MNIST_NAMES, load_mnist
from .resize import parse_size, resize
from .splits import check_split

DATASETS = ("mnist", "fashion-mnist", "digits", "frey")
FILE_DATASETS = ("mnist", "fashion-mnist", "frey")    # read from files, looked for in data_dir (see locate)
# The likelihood that fits each dataset: Frey faces are continuous grey levels (Gaussian p(x|z));
# the digit sets are nearly binary strokes (Bernoulli), and so is any other data by default.
DEFAULT_LIKELIHOOD = {"frey": "gaussian"}


def default_likelihood(name: str) -> str:
    """``gaussian`` for frey, ``bernoulli`` for every other dataset or path."""
    return DEFAULT_LIKELIHOOD.get(name, "bernoulli")


def uses_data_dir(name: str) -> bool:
    """Whether ``load(name, data_dir=...)`` reads ``data_dir`` (not for digits, nor for a path)."""
    return name in FILE_DATASETS


def load(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
         image_size: int | tuple[int, int] | None = None) -> Dataset:
    """One split of a dataset, as uint8 tensors in memory.

    name: one of DATASETS, or a path to a folder of PNG/JPEG images or a .npy/.npz file (a
    known name wins over a folder of that name in the working directory: write ``./mnist``).
    split: "train", "val" or "test"; the datasets without official splits carve them with a
    fixed seed (digits: 70/10/20 %, frey and paths: 80/10/10 %).  data_dir: a folder with
    the dataset's files (see ``locate`` for the search order); ignored for digits and paths.
    image_size: an int or (H, W); every image is resized to it (antialiased bilinear).
    Returns images (N, C, H, W) uint8 and labels (N,) int64 (None for frey and paths).
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    check_split(split)
    size = parse_size(image_size)
    labels = None
    if name in MNIST_NAMES:
        images, labels = load_mnist(name, split, data_dir)
    elif name == "digits":
        images, labels = load_digits(split)
    elif name == "frey":
        images = load_frey(split, data_dir)
    elif isinstance(name, str) and is_path(name):
        images = load_path(name, split, size)
    else:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}, "
                        f"or a path to an image folder or a .npy/.npz file")
    tensor = torch.from_numpy(np.ascontiguousarray(images))
    if size is not None:
        tensor = resize(tensor, size)
    return Dataset(name=str(name), split=split, images=tensor,
                   labels=None if labels is None else torch.from_numpy(labels))
