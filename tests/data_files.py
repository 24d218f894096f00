"""Damaged copies of the real dataset files, for the tests of what vaekit says about them."""

import gzip
import shutil
from pathlib import Path


def mnist_with_truncated_file(shared_data: Path, folder: Path, name: str, keep: int) -> Path:
    """``folder`` holding a copy of the shared MNIST files, with the gzip file ``name`` cut to its
    first ``keep`` decompressed bytes (a truncated IDX file, still valid gzip)."""
    folder.mkdir()
    for f in (shared_data / "mnist").iterdir():
        shutil.copy(f, folder / f.name)
    raw = gzip.decompress((folder / name).read_bytes())
    (folder / name).write_bytes(gzip.compress(raw[:keep]))
    return folder
