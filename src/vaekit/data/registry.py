"""``load``: a dataset name (or path) and a split in, a ``Dataset`` in memory out.

Read from files: mnist, fashion-mnist, frey (looked for in data_dir), digits (shipped with
scikit-learn).  Generated with fixed seeds, nothing read, known answers:

    name             images                 what                      train / val / test
    moons            uint8 (N, 1, 28, 28)   moon phases (see moons)   6,000 / 1,000 / 1,000
    moons-pair       uint8 (N, 1, 28, 28)   full and half moons only  3,000 / 500 / 500
    spiral           float32 (N, 1, 1, 2)   noisy 2-D spiral, p(x)    10,000 / 2,000 / 5,000
    spiral-dD        float32 (N, 1, 1, D)   the spiral in D = 2, 8, 32, 128 dimensions, p(x)  (as spiral)
    linear-gaussian  float32 (N, 1, 1, 16)  probabilistic PCA, p(x)   5,000 / 1,000 / 2,000
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ..errors import DataError
from .dataset import Dataset
from .digits import load_digits
from .files import is_path, load_path
from .frey import load_frey
from .linear_gaussian import linear_gaussian_split
from .mnist import NAMES as MNIST_NAMES, load_mnist
from .moons import PAIR_SPLIT_SIZES, SPLIT_SIZES as MOON_SPLIT_SIZES, moon_pair_split, moons_split, phase_class
from .resize import check_fits, parse_size, resize
from .spiral import EMBED_DIMS, embedded_split, spiral_split
from .splits import check_split

EMBEDDED_SPIRALS = tuple(f"spiral-d{d}" for d in EMBED_DIMS)
DATASETS = ("mnist", "fashion-mnist", "digits", "frey", "moons", "moons-pair", "spiral", *EMBEDDED_SPIRALS,
            "linear-gaussian")
FILE_DATASETS = ("mnist", "fashion-mnist", "frey")    # read from files, looked for in data_dir (see locate)
POINT_DATASETS = ("spiral", *EMBEDDED_SPIRALS, "linear-gaussian")   # generated float32 points, not images
# The likelihood that fits each dataset: Frey faces are continuous grey levels, spiral and
# linear-gaussian continuous points (Gaussian p(x|z)); the digit sets are nearly binary strokes
# and the moons nearly binary discs (Bernoulli), and so is any other data by default.
DEFAULT_LIKELIHOOD = {"frey": "gaussian", "spiral": "gaussian", "linear-gaussian": "gaussian",
                      **{name: "gaussian" for name in EMBEDDED_SPIRALS}}


def default_likelihood(name: str) -> str:
    """``gaussian`` for frey, the spirals and linear-gaussian, ``bernoulli`` for every other dataset or path."""
    return DEFAULT_LIKELIHOOD.get(name, "bernoulli")


def uses_data_dir(name: str) -> bool:
    """Whether ``load(name, data_dir=...)`` reads ``data_dir`` (not for digits, generated data, or a path)."""
    return name in FILE_DATASETS


def load(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
         image_size: int | tuple[int, int] | None = None) -> Dataset:
    """One split of a dataset, as tensors in memory.

    name: one of DATASETS, or a path to a folder of PNG/JPEG images or a .npy/.npz file (a
    known name wins over a folder of that name in the working directory: write ``./mnist``).
    split: "train", "val" or "test"; the datasets without official splits carve them with a
    fixed seed (digits: 70/10/20 %, frey and paths: 80/10/10 %); the generated ones draw each
    split with its own seed (sizes in the module doc).  data_dir: a folder with the dataset's
    files (see ``locate`` for the search order); ignored for digits, generated data and paths.
    image_size: an int or (H, W); every image is resized to it (antialiased bilinear); moons
    at a square size are drawn at that size instead; spiral and linear-gaussian are points
    and take none (DataError unless it is their own (1, D)).
    Returns images (N, C, H, W), uint8 (float32 for spiral and linear-gaussian), and labels
    (N,) int64 (moons: the phase class, see ``moons.PHASE_CLASSES``; None for frey, spiral,
    linear-gaussian and paths).
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
    elif name in ("moons", "moons-pair"):
        square = size is not None and size[0] == size[1]    # drawn at that size; any other is resized below
        if square:   # rendered in float64, with about as many temporaries
            check_fits((MOON_SPLIT_SIZES if name == "moons" else PAIR_SPLIT_SIZES)[split], 1, size, 8 * 4)
        draw = moons_split if name == "moons" else moon_pair_split
        pixels, phases = draw(split, size[0] if square else 28)
        images, labels = pixels.numpy(), phase_class(phases).numpy()
    elif name in POINT_DATASETS:
        if name == "spiral":
            points = spiral_split(split)
        elif name in EMBEDDED_SPIRALS:
            points = embedded_split(split, int(name.removeprefix("spiral-d")))
        else:
            points = linear_gaussian_split(split)
        if size is not None and size != tuple(points.shape[-2:]):
            raise DataError(f"image_size: {name} is points of shape {tuple(points.shape[1:])}, not images; "
                            f"expected no image_size, got {image_size!r}")
        return Dataset(name=name, split=split, images=points)
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
