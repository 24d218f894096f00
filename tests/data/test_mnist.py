"""MNIST from the real official files: known answers, file layouts, lookup order, bad files."""

import gzip
import hashlib
import re
import shutil

import numpy as np
import pytest
import torch

from vaekit.data import load
from vaekit.errors import DataError

from .test_idx import idx_bytes

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# MD5s of the uncompressed official files (header included), from shared/data/SOURCES.md.
TRAIN_IMAGES_MD5 = "6bbc9ace898e44ae57da46a324031adb"
TEST_IMAGES_MD5 = "2646ac647ad5339dbf082846283269ea"
T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def splits(shared_data, mnist_dir):
    # data_dir=shared/data finds the files in its mnist/ subfolder.
    return {s: load("mnist", s, data_dir=shared_data) for s in ("train", "val", "test")}


def images_md5(images: torch.Tensor) -> str:
    """MD5 of the IDX file these images came from: header + pixel bytes."""
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (len(images), 28, 28))
    return hashlib.md5(header + images.numpy().tobytes()).hexdigest()


def link_files(folder, names, source):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(source / name)
    return folder


def test_shapes_and_types(splits):
    for split, n in (("train", 50_000), ("val", 10_000), ("test", 10_000)):
        ds = splits[split]
        assert (ds.name, ds.split, len(ds), ds.image_shape) == ("mnist", split, n, (1, 28, 28))
        assert ds.images.dtype == torch.uint8 and ds.images.is_contiguous()
        assert ds.labels.dtype == torch.int64 and ds.labels.shape == (n,)


def test_known_answers(splits):
    train = torch.cat([splits["train"].images, splits["val"].images])
    labels = torch.cat([splits["train"].labels, splits["val"].labels])
    assert torch.bincount(labels).tolist() == TRAIN_COUNTS
    assert torch.bincount(splits["test"].labels).tolist() == TEST_COUNTS
    assert splits["train"].labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert train.double().mean().item() == pytest.approx(33.318421, abs=1e-6)
    assert splits["test"].images.double().mean().item() == pytest.approx(33.791224, abs=1e-6)
    assert images_md5(train) == TRAIN_IMAGES_MD5
    assert images_md5(splits["test"].images) == TEST_IMAGES_MD5


def test_uncompressed_files_give_the_same_data(tmp_path, mnist_dir, splits):
    for name in T10K:  # the folder itself holds the (gunzipped) files: no mnist/ subfolder
        (tmp_path / name[:-3]).write_bytes(gzip.decompress((mnist_dir / name).read_bytes()))
    test = load("mnist", "test", data_dir=tmp_path)
    assert torch.equal(test.images, splits["test"].images)
    assert torch.equal(test.labels, splits["test"].labels)


def test_env_var_and_cache_are_searched(tmp_path, monkeypatch, mnist_dir, splits):
    link_files(tmp_path / "env" / "mnist", T10K, mnist_dir)
    monkeypatch.setenv("VAEKIT_DATA_DIR", str(tmp_path / "env"))
    assert torch.equal(load("mnist", "test").labels, splits["test"].labels)
    monkeypatch.delenv("VAEKIT_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    link_files(tmp_path / "cache" / "vaekit" / "mnist", T10K, mnist_dir)
    assert torch.equal(load("mnist", "test").labels, splits["test"].labels)


def test_nothing_found_says_where_and_how_to_download(tmp_path):
    looked = re.escape(f"mnist: expected its files in one of {tmp_path / 'mnist'}, {tmp_path}, ")
    with pytest.raises(DataError, match=looked + r".*found none \(`vaekit download mnist` fetches them"):
        load("mnist", "test", data_dir=tmp_path)


def test_missing_file_is_named(tmp_path, mnist_dir):
    link_files(tmp_path, T10K[:1], mnist_dir)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: expected this IDX file \(or t10k-labels-idx1-ubyte\.gz\)"):
        load("mnist", "test", data_dir=tmp_path)


def test_truncated_file_is_named(tmp_path, mnist_dir):
    link_files(tmp_path, T10K[:1], mnist_dir)
    data = (mnist_dir / T10K[1]).read_bytes()
    (tmp_path / T10K[1]).write_bytes(data[: len(data) - 100])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: expected a complete gzip stream"):
        load("mnist", "test", data_dir=tmp_path)
    (tmp_path / T10K[1]).write_bytes(gzip.decompress(data)[:-1])  # plain file, same .gz name
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: expected 10000 bytes .* \(truncated\)"):
        load("mnist", "test", data_dir=tmp_path)


def test_wrong_magic_is_named(tmp_path, mnist_dir):
    shutil.copy(mnist_dir / T10K[1], tmp_path / T10K[0])  # labels where the images belong
    shutil.copy(mnist_dir / T10K[1], tmp_path / T10K[1])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: expected IDX magic 0x00000803 "
                                        r"\(uint8 images, 3 dims\), got 0x00000801"):
        load("mnist", "test", data_dir=tmp_path)


def test_count_mismatch(tmp_path, mnist_dir):
    link_files(tmp_path, T10K[:1], mnist_dir)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(9_999, np.uint8)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: expected as many images as "
                                        r"t10k-labels-idx1-ubyte has labels \(9999\), got 10000"):
        load("mnist", "test", data_dir=tmp_path)


def test_wrong_image_count(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataError, match=r"expected 10000 images in the official mnist test set, got 3"):
        load("mnist", "test", data_dir=tmp_path)
