"""Resizing uint8 image batches to one (H, W), and reading the ``image_size`` argument."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..device import USABLE, memory_bytes
from ..errors import ConfigError
from ..validate import size_pair

_CHUNK = 4096  # images resized at once; bounds the float copy to ~16 MB per 1,000 pixels per image


def parse_size(image_size) -> tuple[int, int] | None:
    """``image_size`` as (H, W): an int s means (s, s); None stays None."""
    return None if image_size is None else size_pair("image_size", image_size)


def check_fits(n: int, channels: int, size: tuple[int, int], bytes_per_pixel: int = 1) -> None:
    """ConfigError (naming image_size) unless n images of channels x size, ``bytes_per_pixel`` each,
    fit in this machine's memory (its usable share, ``device.USABLE``): checked before they are made."""
    need = n * channels * size[0] * size[1] * bytes_per_pixel
    have = memory_bytes("cpu")
    if have is not None and need > USABLE * have:
        raise ConfigError(f"image_size: {n:,} images of {channels}x{size[0]}x{size[1]} need about "
                          f"{need / 2**30:.1f} GiB, more than this machine can give ({USABLE * have / 2**30:.1f} GiB "
                          f"of {have / 2**30:.1f}); lower image_size", setting="image_size")


def resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, C, H, W) uint8 -> (N, C, *size) uint8, bilinear with antialiasing when shrinking."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    chunk = min(len(images), _CHUNK)   # the uint8 result, and one chunk's float copies in and out
    check_fits(len(images), images.shape[1], size)
    check_fits(chunk, images.shape[1], (size[0] + images.shape[2], size[1] + images.shape[3]), 4)
    out = torch.empty((*images.shape[:2], *size), dtype=torch.uint8)
    for start in range(0, len(images), _CHUNK):
        x = images[start:start + _CHUNK].float()
        y = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        out[start:start + _CHUNK] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out
