"""The one container every loader returns: the images (and labels) of one split, in memory.

Images are 8-bit pixels (uint8, 0..255: every real dataset) or continuous values (float32:
the generated ``spiral`` and ``linear-gaussian`` data, whose exact density vaekit knows; a
Gaussian p(x|z) models them as they are, with no binarisation and no dequantisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import DataError
from ..likelihoods import LIKELIHOODS
from ..validate import choice
from .transforms import SPLIT_SEEDS, split_input


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors with == has no single truth value
class Dataset:
    """One split of a dataset, held in memory.

    images: (N, C, H, W) uint8 in 0..255, or float32 continuous values; contiguous.  labels: (N,) int64 class indices, or
    None where the data has no labels (image folders, arrays).  name is the dataset name as
    given to ``load`` (a path for path datasets); split is "train", "val" or "test".
    """

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor | None = None

    def __post_init__(self):
        images, labels = self.images, self.labels
        if (not isinstance(images, torch.Tensor) or images.dtype not in (torch.uint8, torch.float32)
                or images.ndim != 4):
            raise DataError(f"{self.name}: expected images as a uint8 (pixels) or float32 (continuous values) "
                            f"tensor (N, C, H, W), got {_describe(images)}")
        if images.dtype == torch.float32 and not torch.isfinite(images).all():
            raise DataError(f"{self.name}: expected finite continuous values, got "
                            f"{int((~torch.isfinite(images)).sum())} NaN or infinite")
        if not images.is_contiguous():
            raise DataError(f"{self.name}: expected contiguous images, got strides {images.stride()}")
        if labels is not None and (not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64
                                   or tuple(labels.shape) != (len(images),)):
            raise DataError(f"{self.name}: expected labels as an int64 tensor of shape ({len(images)},), "
                            f"got {_describe(labels)}")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        c, h, w = self.images.shape[1:]
        return (c, h, w)

    @property
    def continuous(self) -> bool:
        """True for float32 data used as is (Gaussian p(x|z) only); False for 8-bit pixels."""
        return self.images.dtype == torch.float32

    def __len__(self) -> int:
        return self.images.shape[0]

    def model_input(self, likelihood: str, device: str | torch.device | None = None) -> torch.Tensor:
        """What a model of ``likelihood`` is evaluated on: (N, C, H, W) float32 on ``device``.

        likelihood: a model's ``likelihood``, "bernoulli" (binarised: each pixel 1 with
        probability pixel/255, in {0, 1}) or "gaussian" (dequantised: (pixel + u)/256, u ~ U[0, 1),
        in [0, 1)); continuous data is used as it is, by "gaussian" only.  The draw is the split's fixed seeded one (``data.transforms.split_input``),
        the same for every call and every model, and the one ``vaekit eval`` scores, so numbers
        compare.  It is made on ``device`` (default: where the images are): CPU and CUDA random
        generators differ, so pass the device the numbers are compared on.
        """
        choice("likelihood", likelihood, LIKELIHOODS)
        if self.split not in SPLIT_SEEDS:
            raise DataError(f"{self.name}: model_input needs a split with a fixed draw, one of "
                            f"{', '.join(SPLIT_SEEDS)}; got split {self.split!r}")
        if self.continuous and likelihood != "gaussian":
            raise DataError(f"{self.name}: continuous (float) data needs likelihood gaussian; got {likelihood}")
        images = self.images if device is None else self.images.to(device)
        return split_input(images, likelihood, self.split)

    def __repr__(self) -> str:
        labels = "None" if self.labels is None else f"int64{tuple(self.labels.shape)}"
        return (f"Dataset(name={self.name!r}, split={self.split!r}, "
                f"images={str(self.images.dtype).removeprefix('torch.')}{tuple(self.images.shape)}, labels={labels})")


def _describe(value) -> str:
    """'torch.uint8 (2, 1, 3, 3)' for a tensor, else the type's name."""
    if isinstance(value, torch.Tensor):
        return f"{value.dtype} {tuple(value.shape)}"
    return type(value).__name__
