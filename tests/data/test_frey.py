"""Frey Face in its real format: known answers on the shipped slice of the official MAT-file
(its first 100 frames), the loader and the seeded split on a full-shape file tiled from it, and
bad MAT-files.  The full official file's own known answers are checked by
``bench/official_data.py`` against ../shared/data."""

import hashlib

import numpy as np
import pytest
import scipy.io
import torch

from data_files import FREY_SLICE, tile
from vaekit.data import load
from vaekit.data.frey import read_frey
from vaekit.data.splits import carve
from vaekit.errors import DataError


# Known answers of the official file's first 100 frames (the slice), computed on the official
# file when the slice was cut (tests/files/SOURCES.md): pixel range, mean, and the MD5 of the
# frames as (100, 560) row-major bytes.
SLICE_MD5 = "17dce388b25544048a6ea73547ef6580"
SLICE_RANGE, SLICE_MEAN = (20, 234), 153.2283392857143


@pytest.fixture(scope="module")
def frey_file(frey_full):
    return frey_full


@pytest.fixture(scope="module")
def splits(frey_file):
    return {s: load("frey", s, data_dir=frey_file.parent.parent) for s in ("train", "val", "test")}


def test_known_answers_of_the_official_slice():
    ff = scipy.io.loadmat(FREY_SLICE)["ff"]
    assert ff.shape == (560, 100) and ff.dtype == np.uint8
    assert hashlib.md5(np.ascontiguousarray(ff.T).tobytes()).hexdigest() == SLICE_MD5
    assert (ff.min(), ff.max()) == SLICE_RANGE
    assert ff.astype(np.float64).mean() == pytest.approx(SLICE_MEAN, abs=1e-12)


def test_split_sizes_and_images(splits):
    assert {s: len(ds) for s, ds in splits.items()} == {"train": 1573, "val": 196, "test": 196}
    assert all(ds.image_shape == (1, 28, 20) and ds.labels is None for ds in splits.values())
    pixels = torch.cat([ds.images for ds in splits.values()])
    assert pixels.shape == (1965, 1, 28, 20) and pixels.dtype == torch.uint8
    assert (pixels.min().item(), pixels.max().item()) == SLICE_RANGE


def test_images_are_the_transposed_columns(frey_file):
    images = read_frey(frey_file)
    ff = scipy.io.loadmat(FREY_SLICE)["ff"]
    np.testing.assert_array_equal(images[7, 0], ff[:, 7].reshape(28, 20))  # row-major 28 rows of 20
    np.testing.assert_array_equal(images[:, 0].reshape(1965, 560), tile(np.ascontiguousarray(ff.T), 1965))


def test_the_loader_refuses_a_file_of_another_shape(tmp_path):
    (tmp_path / "frey_rawface.mat").write_bytes(FREY_SLICE.read_bytes())
    with pytest.raises(DataError, match=r"expected 'ff' as uint8 of shape \(560, 1965\), got uint8 \(560, 100\)"):
        load("frey", data_dir=tmp_path)


def test_split_is_deterministic_and_disjoint(frey_file, splits):
    again = load("frey", "val", data_dir=frey_file.parent)  # the folder itself holds the file
    assert torch.equal(again.images, splits["val"].images)
    parts = carve(1965, 0.1, 0.1, seed=0)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(1965))
    images = read_frey(frey_file)
    for split, ds in splits.items():
        np.testing.assert_array_equal(ds.images.numpy(), images[parts[split]])


def test_mat_file_without_ff(tmp_path):
    scipy.io.savemat(tmp_path / "frey_rawface.mat", {"faces": np.zeros((560, 3), np.uint8)})
    with pytest.raises(DataError, match=r"frey_rawface\.mat: expected a variable 'ff', got variables: faces"):
        load("frey", data_dir=tmp_path)


@pytest.mark.parametrize("ff, got", [(np.zeros((560, 3), np.uint8), r"uint8 \(560, 3\)"),
                                     (np.zeros((560, 1965)), r"float64 \(560, 1965\)")])
def test_ff_of_wrong_shape_or_dtype(tmp_path, ff, got):
    scipy.io.savemat(tmp_path / "frey_rawface.mat", {"ff": ff})
    with pytest.raises(DataError, match=r"frey_rawface\.mat: expected 'ff' as uint8 of shape \(560, 1965\), got " + got):
        load("frey", data_dir=tmp_path)


def test_not_a_mat_file(tmp_path):
    (tmp_path / "frey_rawface.mat").write_bytes(b"<html>not found</html>" * 10)
    with pytest.raises(DataError, match=r"frey_rawface\.mat: expected a MATLAB v5 MAT-file, could not read it"):
        load("frey", data_dir=tmp_path)


def test_missing(tmp_path):
    with pytest.raises(DataError, match=r"frey: expected its files in one of .*`vaekit download frey`"):
        load("frey", data_dir=tmp_path)
