"""The IDX parser on small synthetic files: good files, and each way a file can be bad."""

import gzip

import numpy as np
import pytest

from vaekit.data.idx import read_idx
from vaekit.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file holding a uint8 array."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)


@pytest.mark.parametrize("compress", [False, True])
def test_reads_images_and_labels(tmp_path, compress):
    for name, array, ndim in (("im", IMAGES, 3), ("lab", np.array([5, 0, 4], np.uint8), 1)):
        data = idx_bytes(array)
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if compress else data)
        got = read_idx(path, ndim)
        assert got.dtype == np.uint8 and got.shape == array.shape
        np.testing.assert_array_equal(got, array)


def test_wrong_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros(7, np.uint8)))  # a labels file where images belong
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: expected IDX magic 0x00000803 .*got 0x00000801"):
        read_idx(path, 3, "images")


def test_wrong_type_code(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 0x0D, 3]) + idx_bytes(IMAGES)[4:])  # 0x0D: float32
    with pytest.raises(DataError, match=r"x: expected IDX magic 0x00000803.*got 0x00000d03"):
        read_idx(path, 3)


def test_truncated_payload(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(IMAGES)[:-1])
    with pytest.raises(DataError, match=r"x: expected 60 bytes after the header \(dims 3x4x5\), got 59 \(truncated\)"):
        read_idx(path, 3)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(IMAGES) + b"\0")
    with pytest.raises(DataError, match=r"got 61 \(trailing bytes\)"):
        read_idx(path, 3)


def test_truncated_header(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(IMAGES)[:10])
    with pytest.raises(DataError, match=r"x: expected an IDX header of 16 bytes, got a file of 10 bytes"):
        read_idx(path, 3)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    data = gzip.compress(idx_bytes(IMAGES))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"x\.gz: expected a complete gzip stream, got a truncated"):
        read_idx(path, 3)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope: expected a file here, found none"):
        read_idx(tmp_path / "nope", 3)
