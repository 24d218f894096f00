"""Image grids as PNG bytes, drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def grid(images: torch.Tensor, rows: int, pad: int = 1, scale: int = 1, pad_value: int = 128) -> Image.Image:
    """images: (N, C, H, W) float in [0, 1], C = 1 or 3 -> one PIL image, ``rows`` rows.

    Small images are enlarged by ``scale`` with nearest-neighbour so pixels stay sharp.
    """
    x = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    n, c, h, w = x.shape
    cols = -(-n // rows)
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[top:top + h, left:left + w] = x[i].transpose(1, 2, 0)
    img = Image.fromarray(canvas[..., 0] if c == 1 else canvas, "L" if c == 1 else "RGB")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def auto_scale(h: int, w: int, target: int = 56) -> int:
    """An integer enlargement that shows each image at least ``target`` pixels tall."""
    return max(1, -(-target // max(h, w)))


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def samples_png(images: torch.Tensor, rows: int = 8) -> bytes:
    """A grid of images (N, C, H, W) in [0, 1]: decoded prior samples, or a mixture's means."""
    return png(grid(images, rows, scale=auto_scale(*images.shape[-2:])))


def reconstructions_png(originals: torch.Tensor, recons: torch.Tensor) -> bytes:
    """Row pairs: a row of originals above the row of their reconstructions."""
    n = originals.shape[0]
    cols = min(n, 16)
    pairs = []
    for i in range(0, n, cols):
        pairs += [originals[i:i + cols], recons[i:i + cols]]
    return png(grid(torch.cat(pairs), rows=len(pairs), scale=auto_scale(*originals.shape[-2:])))


def interpolations_png(rows: torch.Tensor) -> bytes:
    """rows: (R, S, C, H, W) in [0, 1], each row the decodes along a line between two codes."""
    return png(grid(rows.flatten(0, 1), rows=rows.shape[0], scale=auto_scale(*rows.shape[-2:])))
