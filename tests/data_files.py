"""The real-format data files the tests read, all from ``tests/files/`` (no folder beside the repo).

``tests/files/`` ships slices of the official files (``tests/files/make.py`` cuts them and
``tests/files/SOURCES.md`` lists them): the first 500 MNIST training and 200 test images with
their labels, as IDX ``.gz`` files, and the first 100 Frey Face frames as a MAT-file.
vaekit's loaders insist on the official counts (60,000 + 10,000 MNIST images, 1,965 Frey
frames), so the helpers here also build full-count files from the slices, tiling the real
images: item i of a tiled file is item i mod N of the slice.  Those are valid files in the
real formats whose every image is a real one, not the official files.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np

FILES = Path(__file__).resolve().parent / "files"
MNIST_SLICE = FILES / "mnist"
FREY_SLICE = FILES / "frey" / "frey-first-100.mat"
MNIST_COUNTS = {"train": 60_000, "t10k": 10_000}


def idx_header(magic_dims: int, dims) -> bytes:
    return bytes([0, 0, 0x08, magic_dims]) + b"".join(int(d).to_bytes(4, "big") for d in dims)


def read_slice(name: str) -> np.ndarray:
    """The items of one MNIST slice file (``name`` without ``.gz``): (N, 28, 28) or (N,) uint8."""
    raw = gzip.decompress((MNIST_SLICE / f"{name}.gz").read_bytes())
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def tile(items: np.ndarray, count: int) -> np.ndarray:
    """``count`` items, item i being ``items[i % len(items)]``."""
    return items[np.arange(count) % len(items)]


def full_count_mnist(folder: Path, gz: bool = True) -> Path:
    """``folder`` holding four MNIST IDX files with the official counts, tiled from the slices
    (gzipped at level 1 with ``gz``, else plain)."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, count in MNIST_COUNTS.items():
        for kind, ndim in (("images-idx3-ubyte", 3), ("labels-idx1-ubyte", 1)):
            name = f"{part}-{kind}"
            items = tile(read_slice(name), count)
            data = idx_header(ndim, items.shape) + items.tobytes()
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1, mtime=0))
            else:
                (folder / name).write_bytes(data)
    return folder


def full_count_frey(folder: Path) -> Path:
    """``folder/frey_rawface.mat`` with the official shape: ``ff`` uint8 (560, 1965), column j the
    slice's frame j mod 100."""
    import scipy.io

    ff = scipy.io.loadmat(FREY_SLICE)["ff"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "frey_rawface.mat"
    scipy.io.savemat(path, {"ff": np.ascontiguousarray(tile(ff.T, 1965).T)})
    return path


def checksums(path: Path) -> tuple[str, str]:
    """(md5, sha256) of a file, hex."""
    data = path.read_bytes()
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def mnist_with_truncated_file(source: Path, folder: Path, name: str, keep: int) -> Path:
    """``folder`` holding a copy of the MNIST files in ``source``, with the gzip file ``name`` cut
    to its first ``keep`` decompressed bytes (a truncated IDX file, still valid gzip)."""
    folder.mkdir()
    for f in source.iterdir():
        shutil.copy(f, folder / f.name)
    raw = gzip.decompress((folder / name).read_bytes())
    (folder / name).write_bytes(gzip.compress(raw[:keep]))
    return folder
