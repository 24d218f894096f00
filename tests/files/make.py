"""Cut the small real-format data files the tests read from the official dataset files.

    python tests/files/make.py [--source ../shared/data]     # write tests/files/{mnist,frey}/
    python tests/files/make.py --check                        # re-cut in memory, compare byte for byte

The tests need no folder beside the repository: they read these slices (and build full-count
folders from them, see ``tests/data_files.py``).  Each slice is the first N items of an
official file, with the IDX header's count (or the MAT variable's shape) set to N; nothing
else changes.  The source files are first checked against the checksums that
``vaekit.data.download.RESOURCES`` pins, so a slice is always cut from the official bytes.
The output is deterministic: gzip with mtime 0 and no file name, scipy's MAT-file writer
without compression.  SOURCES.md beside this file lists what each file holds and its SHA-256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MNIST_SLICES = {  # official file -> how many items the slice keeps
    "train-images-idx3-ubyte.gz": 500,
    "train-labels-idx1-ubyte.gz": 500,
    "t10k-images-idx3-ubyte.gz": 200,
    "t10k-labels-idx1-ubyte.gz": 200,
}
FREY_FRAMES = 100
FREY_SLICE = "frey-first-100.mat"


def cut_idx(raw: bytes, keep: int) -> bytes:
    """The first ``keep`` items of an uncompressed IDX file, its header's count set to ``keep``."""
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    if not 0 < keep <= dims[0]:
        raise SystemExit(f"expected to keep 1..{dims[0]} items, got {keep}")
    item = 1
    for d in dims[1:]:
        item *= d
    header = raw[:4] + keep.to_bytes(4, "big") + raw[8:4 + 4 * ndim]
    body = raw[4 + 4 * ndim:4 + 4 * ndim + keep * item]
    return header + body


def gzip_bytes(data: bytes) -> bytes:
    """gzip at level 9 with mtime 0 and no stored name: the same bytes on every machine."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(data)
    return out.getvalue()


def frey_slice(path: Path, frames: int) -> bytes:
    """A MAT-file whose ``ff`` holds the first ``frames`` columns (images) of the official ``ff``."""
    import numpy as np
    import scipy.io

    ff = scipy.io.loadmat(path)["ff"]
    out = io.BytesIO()
    scipy.io.savemat(out, {"ff": np.ascontiguousarray(ff[:, :frames])}, do_compression=False)
    data = bytearray(out.getvalue())
    data[:116] = b"MATLAB 5.0 MAT-file, vaekit test slice: the first frames of frey_rawface.mat".ljust(116)  # no date
    return bytes(data)


def verify_sources(source: Path) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from vaekit.data.download import RESOURCES, verify_checksum

    for name, folder in (("mnist", source / "mnist"), ("frey", source / "frey")):
        for r in RESOURCES[name]:
            verify_checksum(folder / r.filename, md5=r.md5, sha256=r.sha256)


def slices(source: Path) -> dict[str, bytes]:
    """{path relative to tests/files: bytes} of every slice."""
    out = {}
    for name, keep in MNIST_SLICES.items():
        raw = gzip.decompress((source / "mnist" / name).read_bytes())
        out[f"mnist/{name}"] = gzip_bytes(cut_idx(raw, keep))
    out[f"frey/{FREY_SLICE}"] = frey_slice(source / "frey" / "frey_rawface.mat", FREY_FRAMES)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data",
                   help="folder with mnist/ and frey/ official files (default: ../shared/data)")
    p.add_argument("--check", action="store_true", help="compare with the files here instead of writing")
    args = p.parse_args(argv)
    verify_sources(args.source)
    bad = 0
    for rel, data in slices(args.source).items():
        path = HERE / rel
        digest = hashlib.sha256(data).hexdigest()
        if args.check:
            same = path.is_file() and path.read_bytes() == data
            bad += not same
            print(f"{'same' if same else 'DIFFERS'}  {digest}  {rel}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"{digest}  {rel}  ({len(data):,} bytes)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
