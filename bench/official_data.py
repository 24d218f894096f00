"""The official MNIST and Frey Face files against their known answers, through vaekit's loaders.

The test suite reads only the small slices in ``tests/files`` (a fresh clone has no data
beside it); this script checks what needs the full files, on ../shared/data (or --data-dir):
vaekit's pinned download checksums, the split sizes, the label counts, the MD5 of the
uncompressed official files, the mean pixel (all from ../shared/data/SOURCES.md), and that
the shipped slices are the official files' first images (``tests/files/make.py --check``).

    python bench/official_data.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import torch

from vaekit.data import load, verify_checksum
from vaekit.data.download import RESOURCES

REPO = Path(__file__).resolve().parents[1]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_IMAGES_MD5 = "6bbc9ace898e44ae57da46a324031adb"   # uncompressed, header included
TEST_IMAGES_MD5 = "2646ac647ad5339dbf082846283269ea"


def images_md5(images: torch.Tensor) -> str:
    """MD5 of the IDX file these (N, 1, 28, 28) images came from: header + pixel bytes."""
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (len(images), 28, 28))
    return hashlib.md5(header + images.numpy().tobytes()).hexdigest()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = p.parse_args()
    start = time.perf_counter()
    checks: list[tuple[str, bool]] = []

    for name in ("mnist", "frey"):
        for r in RESOURCES[name]:
            verify_checksum(args.data_dir / name / r.filename, md5=r.md5, sha256=r.sha256)
        checks.append((f"{name}: pinned download checksums", True))

    mnist = {s: load("mnist", s, data_dir=args.data_dir) for s in ("train", "val", "test")}
    train = torch.cat([mnist["train"].images, mnist["val"].images])
    labels = torch.cat([mnist["train"].labels, mnist["val"].labels])
    checks += [
        ("mnist: split sizes 50,000 / 10,000 / 10,000", [len(mnist[s]) for s in mnist] == [50_000, 10_000, 10_000]),
        ("mnist: training label counts", torch.bincount(labels).tolist() == TRAIN_COUNTS),
        ("mnist: test label counts", torch.bincount(mnist["test"].labels).tolist() == TEST_COUNTS),
        ("mnist: first ten training labels 5 0 4 1 9 2 1 3 1 4", labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
        ("mnist: training images' MD5", images_md5(train) == TRAIN_IMAGES_MD5),
        ("mnist: test images' MD5", images_md5(mnist["test"].images) == TEST_IMAGES_MD5),
        ("mnist: mean training pixel 33.318421", abs(train.double().mean().item() - 33.318421) < 1e-6),
        ("mnist: mean test pixel 33.791224", abs(mnist["test"].images.double().mean().item() - 33.791224) < 1e-6),
    ]
    frey = torch.cat([load("frey", s, data_dir=args.data_dir).images for s in ("train", "val", "test")])
    checks += [
        ("frey: 1,965 frames of 28x20", tuple(frey.shape) == (1965, 1, 28, 20)),
        ("frey: pixels in [8, 238]", (frey.min().item(), frey.max().item()) == (8, 238)),
        ("frey: mean pixel 154.4609", abs(frey.double().mean().item() - 154.4609) < 5e-5),
    ]
    slices = subprocess.run([sys.executable, str(REPO / "tests" / "files" / "make.py"), "--check",
                             "--source", str(args.data_dir)], capture_output=True, text=True)
    checks.append(("tests/files: the slices are the official files' first items", slices.returncode == 0))

    for what, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'}  {what}")
    failed = sum(not ok for _, ok in checks)
    print(f"{len(checks) - failed} passed, {failed} failed in {time.perf_counter() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
