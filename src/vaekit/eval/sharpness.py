"""How sharp an image is: two standard per-image measures, larger is sharper.

Both are computed on pixels in [0, 1] (uint8 divided by 255), per channel and then averaged
over channels; they are 0 for a constant image and grow with the strength and number of
edges.  A blurred image (the mean E[x|z] of a pixelwise-independent decoder) scores lower
than the images it blends.

- ``gradient_magnitude``: the mean over pixels of sqrt(gx² + gy²), with gx, gy the forward
  differences to the right and down neighbour (the last row and column, which lack one,
  are left out).  Unit: pixel value per pixel; a ramp rising by a per pixel scores a.
- ``laplacian_variance``: the variance over pixels of the 4-neighbour Laplacian
  x[i−1, j] + x[i+1, j] + x[i, j−1] + x[i, j+1] − 4·x[i, j] (interior pixels only).  Unit:
  (pixel value)²; a ramp scores 0, a 0/1 checkerboard 16.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .nearest import as_unit_float

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def _check(images: torch.Tensor, need: int) -> torch.Tensor:
    x = as_unit_float(images)
    if x.ndim != 4 or x.shape[-1] < need or x.shape[-2] < need:
        raise ValueError(f"expected images (N, C, H, W) with H, W >= {need}; got {tuple(x.shape)}")
    return x


@torch.no_grad()
def gradient_magnitude(images: torch.Tensor) -> torch.Tensor:
    """Mean gradient magnitude per image: (N, C, H, W) uint8 or float in [0, 1] -> (N,) float32."""
    x = _check(images, 2)
    gx = x[..., :-1, 1:] - x[..., :-1, :-1]          # (N, C, H−1, W−1), right neighbour minus pixel
    gy = x[..., 1:, :-1] - x[..., :-1, :-1]          # down neighbour minus pixel
    return (gx * gx + gy * gy).sqrt().mean(dim=(1, 2, 3))


@torch.no_grad()
def laplacian_variance(images: torch.Tensor) -> torch.Tensor:
    """Variance of the Laplacian per image: (N, C, H, W) uint8 or float in [0, 1] -> (N,) float32.

    The population variance (divided by the number of interior pixels) per channel, averaged
    over channels.
    """
    x = _check(images, 3)
    n, c, h, w = x.shape
    kernel = _LAPLACIAN.to(x.device, x.dtype).view(1, 1, 3, 3)
    lap = F.conv2d(x.reshape(n * c, 1, h, w), kernel)    # (N·C, 1, H−2, W−2), interior pixels
    return lap.flatten(1).var(dim=1, correction=0).view(n, c).mean(1)
