"""Images in and out of the server: tensors to PNG (one image or a strip), uploads to tensors.

Tensors here are (N, C, H, W) with C = 1 (grey) or 3 (RGB), float in [0, 1] or uint8.
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..data.resize import resize
from .inputs import BadInput

MAX_UPLOAD_PIXELS = 4096 * 4096   # a decoded upload larger than this is refused (a "decompression bomb")
MAX_ASPECT_CHANGE = 2.0           # an upload is resized only if its width/height is within this factor of the model's
FORMATS = ("PNG", "JPEG")


def _as_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) float in [0, 1] or uint8 -> (N, H, W, C) uint8 numpy."""
    images = images.detach().cpu()
    if images.dtype != torch.uint8:
        images = (images.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).numpy()


def png_strip(images: torch.Tensor) -> bytes:
    """N images side by side in one PNG, N·W wide and H high, no gaps: (N, C, H, W) -> PNG bytes."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"png_strip: expected (N, 1 or 3, H, W); got {tuple(images.shape)}")
    pixels = _as_uint8(images)                                   # (N, H, W, C)
    strip = np.concatenate(list(pixels), axis=1)                 # (H, N·W, C)
    image = Image.fromarray(strip[..., 0] if strip.shape[-1] == 1 else strip, mode="L" if strip.shape[-1] == 1 else "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def data_url(images: torch.Tensor) -> str:
    """The images as a strip in a ``data:image/png;base64,...`` URL, for JSON answers."""
    return "data:image/png;base64," + base64.b64encode(png_strip(images)).decode("ascii")


def from_base64(text) -> bytes:
    """The bytes of a base64 string, or of a ``data:...;base64,`` URL; BadInput for anything else."""
    if not isinstance(text, str) or not text:
        raise BadInput(f"image: expected a base64 string (or a data: URL) of a PNG or JPEG file; got {type(text).__name__}")
    if text.startswith("data:"):
        head, _, text = text.partition(",")
        if not head.endswith(";base64"):
            raise BadInput("image: a data: URL must be base64-encoded (data:image/png;base64,...)")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise BadInput("image: not valid base64; expected the base64 text of a PNG or JPEG file") from None


def read_upload(data: bytes, shape: tuple[int, int, int]) -> torch.Tensor:
    """A PNG or JPEG file's bytes -> (1, C, H, W) uint8 at the model's ``shape`` (C, H, W).

    Converted to grey (C = 1) or RGB (C = 3), then resized (antialiased bilinear, as datasets
    are) when its size differs; refused (BadInput, status 415 for a file that is not an image)
    when it is no PNG or JPEG, is larger than MAX_UPLOAD_PIXELS, or its aspect ratio is more than
    MAX_ASPECT_CHANGE away from the model's (resizing would distort it beyond recognition).
    """
    c, h, w = shape
    if c not in (1, 3):
        raise BadInput(f"this model's images have {c} channels; only grey (1) and RGB (3) images can be uploaded")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise BadInput(f"image is {width}x{height} pixels; at most {MAX_UPLOAD_PIXELS:,} pixels are accepted")
            image = image.convert("L" if c == 1 else "RGB")
    except UnidentifiedImageError:
        raise BadInput("the upload is not a PNG or JPEG image", status=415) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):   # Pillow's own limit, above ours
        raise BadInput(f"the image has far more than {MAX_UPLOAD_PIXELS:,} pixels; at most {MAX_UPLOAD_PIXELS:,} "
                       "pixels are accepted") from None
    except (OSError, SyntaxError, ValueError) as e:
        if isinstance(e, BadInput):
            raise
        raise BadInput(f"the upload is a damaged PNG or JPEG image ({type(e).__name__})", status=415) from None
    aspect, want = width / height, w / h
    if max(aspect / want, want / aspect) > MAX_ASPECT_CHANGE:
        raise BadInput(f"image is {width}x{height} (width x height); this model takes {w}x{h} images, and resizing "
                       f"would distort it: expected a width/height ratio within {MAX_ASPECT_CHANGE:g}x of {want:.3g}")
    pixels = np.asarray(image, dtype=np.uint8)
    tensor = torch.from_numpy(pixels.reshape(height, width, c).copy()).permute(2, 0, 1).unsqueeze(0)   # (1, C, H, W)
    return resize(tensor, (h, w))
