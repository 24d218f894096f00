"""Path datasets: a folder of PNG/JPEG images, or a .npy/.npz file of a uint8 image array.

Folder: the files ending in .png, .jpg or .jpeg (any case) directly inside it, in sorted
name order (subfolders and other files are ignored).  All are converted to one mode: 'L'
(one channel) if every image is grayscale (modes 1, L, LA, or a palette of grays), else
'RGB' (three channels; alpha is dropped).  16-bit and float images are refused.  Images of
different sizes need ``size``, which resizes every image (PIL bilinear, antialiased).

Array: a uint8 array (N, H, W) or channels-last (N, H, W, C) with C in {1, 3}.  From an
.npz file: its only array, else the one named ``images``, else the one named ``x``.

Neither has labels or official splits: a seeded carve (see ``splits``) gives val = 10%,
test = 10% (each floor(N / 10)), train = the rest.  Asking for a split that comes out
empty (fewer than 10 images for val or test) is an error.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from .resize import check_fits
from .splits import carved_split

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npy", ".npz")
NPZ_KEYS = ("images", "x")  # which array of a many-array .npz, in order of preference
SEED = 0
VAL_FRACTION = 0.1
TEST_FRACTION = 0.1

_GRAY_MODES = ("1", "L", "LA", "La")
_DEEP_MODES = ("I", "F", "I;16", "I;16B", "I;16L", "I;16N")  # more than 8 bits per channel


def _reason(err: Exception) -> str:
    """An exception as one line: 'OSError: cannot identify image file ...'."""
    return " ".join(f"{type(err).__name__}: {err}".split())


def is_path(name: str) -> bool:
    """Whether a dataset name means a path: it has a separator, an array suffix, or exists."""
    seps = [os.sep] + ([os.altsep] if os.altsep else [])
    return any(s in name for s in seps) or name.lower().endswith(ARRAY_SUFFIXES) or os.path.exists(name)


def load_path(name: str, split: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """images (N, C, H, W) uint8 of ``split`` of the folder or array file ``name``."""
    path = Path(name).expanduser()
    if path.is_dir():
        images = read_folder(path, size)
    elif path.suffix.lower() in ARRAY_SUFFIXES and path.is_file():
        images = read_array(path)
    elif not path.exists():
        raise DataError(f"{path}: expected an image folder or a .npy/.npz file, found nothing there")
    else:
        kind = f"a {path.suffix} file" if path.suffix else "a file without suffix"
        raise DataError(f"{path}: expected an image folder or a .npy/.npz file, got {kind}")
    return images[carved_split(str(path), len(images), split, VAL_FRACTION, TEST_FRACTION, SEED)]


def _open_image(path: Path):
    """The decoded image at ``path`` as a PIL image in mode 'L' or 'RGB'."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            image = None if mode in _DEEP_MODES else im.convert("L" if mode in _GRAY_MODES else "RGB")
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: expected a readable PNG/JPEG image, got {_reason(err)}") from None
    if image is None:
        raise DataError(f"{path}: expected an 8-bit image, got mode {mode}")
    if mode == "P":  # a palette image is grayscale when its colours are all grays
        rgb = np.asarray(image)
        if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
            image = image.convert("L")
    return image


def read_folder(folder: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """All images of ``folder`` (see module doc), (N, C, H, W) uint8; ``size`` is (H, W)."""
    from PIL import Image

    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                   key=lambda p: p.name)
    if not files:
        raise DataError(f"{folder}: expected PNG/JPEG images (*.png, *.jpg, *.jpeg), found none")
    images = [_open_image(p) for p in files]  # one by one: each file must be decoded anyway
    mode = "L" if all(im.mode == "L" for im in images) else "RGB"
    if size is None:
        first = images[0].size
        for path, im in zip(files, images):
            if im.size != first:
                raise DataError(f"{path}: expected every image to be {first[0]}x{first[1]} (W x H) like "
                                f"{files[0].name}, got {im.size[0]}x{im.size[1]}; pass `image_size` "
                                "to resize them all")
        size = (first[1], first[0])
    height, width = size
    check_fits(len(images), 1 if mode == "L" else 3, size)   # before it is allocated
    out = np.empty((len(images), height, width, 1 if mode == "L" else 3), dtype=np.uint8)  # (N, H, W, C)
    for i, im in enumerate(images):
        im = im.convert(mode)
        if im.size != (width, height):
            im = im.resize((width, height), Image.Resampling.BILINEAR)
        out[i] = np.asarray(im).reshape(height, width, -1)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


_LOAD_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)


def _check_declared_size(fp, available: int, where: str) -> None:
    """DataError unless the .npy header at ``fp`` declares at most the ``available`` bytes of data.

    A header is a few bytes; numpy would allocate whatever it declares before finding the
    data missing (a 229-byte file can claim 730 GiB).
    """
    try:
        start = fp.tell()
        version = np.lib.format.read_magic(fp)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, _, dtype = read_header(fp)
        header = fp.tell() - start
    except _LOAD_ERRORS as err:
        raise DataError(f"{where}: expected a readable numpy array file, got {_reason(err)}") from None
    declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared > available - header:
        raise DataError(f"{where}: its header declares an array {shape} of {dtype} ({declared:,} bytes), "
                        f"but the file holds {max(available - header, 0):,} bytes of data")


def _load_array(path: Path) -> tuple[np.ndarray, str]:
    """The array of a .npy/.npz file (see module doc) and how to name it in messages."""
    try:
        if not path.is_file():
            raise DataError(f"{path}: expected a regular .npy/.npz file")
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fp:
                _check_declared_size(fp, path.stat().st_size, str(path))
        loaded = np.load(path, allow_pickle=False)
    except DataError:
        raise
    except _LOAD_ERRORS as err:
        raise DataError(f"{path}: expected a readable numpy array file, got {_reason(err)}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        return loaded, str(path)
    with loaded:
        keys = loaded.files
        key = keys[0] if len(keys) == 1 else next((k for k in NPZ_KEYS if k in keys), None)
        if key is None:
            raise DataError(f"{path}: expected one array, or one named {' or '.join(NPZ_KEYS)}, "
                            f"got arrays {', '.join(keys) or '(none)'}")
        try:
            name = key + ".npy" if key + ".npy" in loaded.zip.namelist() else key
            with loaded.zip.open(name) as fp:
                _check_declared_size(fp, loaded.zip.getinfo(name).file_size, f"{path}[{key}]")
            return loaded[key], f"{path}[{key}]"
        except DataError:
            raise
        except _LOAD_ERRORS as err:
            raise DataError(f"{path}[{key}]: expected a readable array, got {_reason(err)}") from None


def read_array(path: Path) -> np.ndarray:
    """The uint8 images of a .npy/.npz file (see module doc), (N, C, H, W)."""
    array, where = _load_array(path)
    if array.dtype != np.uint8:
        raise DataError(f"{where}: expected dtype uint8 (pixels 0..255), got {array.dtype}")
    if not (array.ndim == 3 or (array.ndim == 4 and array.shape[3] in (1, 3))) or min(array.shape) < 1:
        raise DataError(f"{where}: expected shape (N, H, W) or channels-last (N, H, W, C) with C in {{1, 3}} "
                        f"and no size 0, got {array.shape}")
    array = array[..., None] if array.ndim == 3 else array
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2))
