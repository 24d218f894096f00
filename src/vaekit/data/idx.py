"""IDX files, the format of MNIST and Fashion-MNIST, parsed with every header field checked.

Layout (big-endian): two zero bytes, a type code (0x08 = uint8), the number of dims d, d
uint32 sizes, then exactly prod(sizes) items.  So uint8 images (N, H, W) have the magic
0x00000803 and uint8 labels (N,) 0x00000801.  A file may be gzipped; that is detected from
the gzip magic bytes 1f 8b, not from the name.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

UINT8 = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
MAX_FILE = 1 << 30   # the MNIST training images are 47 MB unpacked; anything past 1 GiB is not an IDX file


def read_bytes(path: Path) -> bytes:
    """The file's contents, gunzipped if it is gzip; DataError if missing, unreadable or truncated."""
    from ..fileio import UnsafeFile, read_bytes as read_regular

    try:
        raw = read_regular(path, MAX_FILE)
    except FileNotFoundError:
        raise DataError(f"{path}: expected a file here, found none") from None
    except UnsafeFile as err:
        raise DataError(str(err)) from None
    except OSError as err:
        raise DataError(f"{path}: expected a readable file, got {type(err).__name__}: {err.strerror}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                raw = f.read(MAX_FILE + 1)   # a gzip bomb stops here
            if len(raw) > MAX_FILE:
                raise DataError(f"{path}: expected at most {MAX_FILE:,} bytes unpacked, got more")
        except (EOFError, OSError, zlib.error) as err:
            raise DataError(f"{path}: expected a complete gzip stream, "
                            f"got a truncated or corrupt one ({err})") from None
    return raw


def read_idx(path: str | os.PathLike, ndim: int, what: str = "data") -> np.ndarray:
    """The uint8 array of an IDX file with ``ndim`` dims, e.g. (N, 28, 28) for ndim=3.

    The array is a read-only view of the file's bytes; copy what you keep.  ``what`` (e.g.
    "images") only words the error messages.
    """
    path = Path(path)
    raw = read_bytes(path)
    magic_expected = (UINT8 << 8) | ndim
    header = 4 + 4 * ndim
    magic = int.from_bytes(raw[:4], "big")
    if len(raw) >= 4 and magic != magic_expected:
        raise DataError(f"{path}: expected IDX magic 0x{magic_expected:08x} (uint8 {what}, {ndim} dims), "
                        f"got 0x{magic:08x}")
    if len(raw) < header:
        raise DataError(f"{path}: expected an IDX header of {header} bytes, got a file of {len(raw)} bytes")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    count, got = math.prod(dims), len(raw) - header
    if got != count:
        problem = "truncated" if got < count else "trailing bytes"
        raise DataError(f"{path}: expected {count} bytes after the header (dims {'x'.join(map(str, dims))}), "
                        f"got {got} ({problem})")
    return np.frombuffer(raw, dtype=np.uint8, count=count, offset=header).reshape(dims)
