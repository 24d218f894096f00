"""MNIST in its real format: known answers on the shipped slices of the official files, the
split layout on full-count files tiled from them, file layouts, lookup order, bad files.

The full official files' own known answers (60,000 + 10,000 images, their MD5s and mean
pixel) are checked by ``bench/official_data.py`` against ../shared/data, not here."""

import gzip
import hashlib
import re
import shutil

import numpy as np
import pytest
import torch

from data_files import MNIST_SLICE, read_slice, tile
from vaekit.data import load
from vaekit.data.idx import read_idx
from vaekit.data.mnist import resolve
from vaekit.errors import DataError

from .test_idx import idx_bytes

# Known answers of the first 500 official training and 200 test images and labels (the slices):
# the labels' counts and first ten, the pixels' MD5 and mean.  The MD5s were computed on the
# official files when the slices were cut (tests/files/SOURCES.md).
SLICE = {
    "train": dict(n=500, counts=[50, 66, 52, 50, 52, 39, 45, 52, 39, 55], first=[5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
                  md5="542e6c15a54f3772aab55d29b29317cc", mean=32.17622448979592),
    "t10k": dict(n=200, counts=[17, 28, 16, 16, 28, 20, 20, 24, 10, 21], first=[7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
                 md5="94ea92adcd56f37991fc5af034e3a174", mean=30.340746173469388),
}
T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def splits(mnist_full):
    # data_dir = the parent finds the files in its mnist/ subfolder.
    return {s: load("mnist", s, data_dir=mnist_full.parent) for s in ("train", "val", "test")}


def link_files(folder, names, source):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(source / name)
    return folder


@pytest.mark.parametrize("part", ["train", "t10k"])
def test_known_answers_of_the_official_slices(part):
    known = SLICE[part]
    images = read_idx(MNIST_SLICE / f"{part}-images-idx3-ubyte.gz", 3, "images")
    labels = read_idx(MNIST_SLICE / f"{part}-labels-idx1-ubyte.gz", 1, "labels")
    assert images.shape == (known["n"], 28, 28) and labels.shape == (known["n"],)
    assert np.bincount(labels).tolist() == known["counts"]
    assert labels[:10].tolist() == known["first"]
    assert hashlib.md5(images.tobytes()).hexdigest() == known["md5"]
    assert images.astype(np.float64).mean() == pytest.approx(known["mean"], abs=1e-12)


def test_the_loader_refuses_files_that_are_not_the_official_counts(tmp_path):
    link_files(tmp_path, ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"], MNIST_SLICE)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: expected 60000 images in the official "
                                        r"mnist train set, got 500"):
        load("mnist", "train", data_dir=tmp_path)


def test_shapes_types_and_split_layout(splits):
    train_images = read_slice("train-images-idx3-ubyte")
    for split, n, first in (("train", 50_000, 0), ("val", 10_000, 50_000), ("test", 10_000, 0)):
        ds = splits[split]
        assert (ds.name, ds.split, len(ds), ds.image_shape) == ("mnist", split, n, (1, 28, 28))
        assert ds.images.dtype == torch.uint8 and ds.images.is_contiguous()
        assert ds.labels.dtype == torch.int64 and ds.labels.shape == (n,)
    # train = official training images 0..49,999, val = 50,000..59,999 (item i of a tiled file is
    # slice item i mod 500), test = the t10k images in order
    assert np.array_equal(splits["train"].images[:, 0].numpy(), tile(train_images, 50_000))
    assert np.array_equal(splits["val"].images[:7, 0].numpy(), train_images[[(50_000 + i) % 500 for i in range(7)]])
    assert splits["test"].labels[:10].tolist() == SLICE["t10k"]["first"]
    assert splits["train"].labels[:10].tolist() == SLICE["train"]["first"]


def test_uncompressed_files_give_the_same_data(tmp_path, mnist_full, splits):
    for name in T10K:  # the folder itself holds the (gunzipped) files: no mnist/ subfolder
        (tmp_path / name[:-3]).write_bytes(gzip.decompress((mnist_full / name).read_bytes()))
    test = load("mnist", "test", data_dir=tmp_path)
    assert torch.equal(test.images, splits["test"].images)
    assert torch.equal(test.labels, splits["test"].labels)


def test_env_var_and_cache_are_searched(tmp_path, monkeypatch, mnist_full, splits):
    link_files(tmp_path / "env" / "mnist", T10K, mnist_full)
    monkeypatch.setenv("VAEKIT_DATA_DIR", str(tmp_path / "env"))
    assert torch.equal(load("mnist", "test").labels, splits["test"].labels)
    monkeypatch.delenv("VAEKIT_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    link_files(tmp_path / "cache" / "vaekit" / "mnist", T10K, mnist_full)
    assert torch.equal(load("mnist", "test").labels, splits["test"].labels)


def test_nothing_found_says_where_and_how_to_download(tmp_path):
    looked = re.escape(f"mnist: expected its files in one of {tmp_path / 'mnist'}, {tmp_path}, ")
    with pytest.raises(DataError, match=looked + r".*found none \(`vaekit download mnist` fetches them"):
        load("mnist", "test", data_dir=tmp_path)


def test_missing_file_is_named(tmp_path, mnist_full):
    link_files(tmp_path, T10K[:1], mnist_full)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: expected this IDX file \(or t10k-labels-idx1-ubyte\.gz\)"):
        load("mnist", "test", data_dir=tmp_path)


def test_plain_file_is_preferred_to_gz(tmp_path):
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "a.gz").write_bytes(b"")
    assert resolve(tmp_path, "a") == tmp_path / "a"


def test_truncated_file_is_named(tmp_path, mnist_full):
    link_files(tmp_path, T10K[:1], mnist_full)
    data = (mnist_full / T10K[1]).read_bytes()
    (tmp_path / T10K[1]).write_bytes(data[: len(data) - 100])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: expected a complete gzip stream"):
        load("mnist", "test", data_dir=tmp_path)
    (tmp_path / T10K[1]).write_bytes(gzip.decompress(data)[:-1])  # plain file, same .gz name
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: expected 10000 bytes .* \(truncated\)"):
        load("mnist", "test", data_dir=tmp_path)


def test_wrong_magic_is_named(tmp_path, mnist_full):
    shutil.copy(mnist_full / T10K[1], tmp_path / T10K[0])  # labels where the images belong
    shutil.copy(mnist_full / T10K[1], tmp_path / T10K[1])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: expected IDX magic 0x00000803 "
                                        r"\(uint8 images, 3 dims\), got 0x00000801"):
        load("mnist", "test", data_dir=tmp_path)


def test_count_mismatch(tmp_path, mnist_full):
    link_files(tmp_path, T10K[:1], mnist_full)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(9_999, np.uint8)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: expected as many images as "
                                        r"t10k-labels-idx1-ubyte has labels \(9999\), got 10000"):
        load("mnist", "test", data_dir=tmp_path)


def test_wrong_image_count(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataError, match=r"expected 10000 images in the official mnist test set, got 3"):
        load("mnist", "test", data_dir=tmp_path)
