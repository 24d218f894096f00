"""``load`` dispatch and argument checks, and the Dataset container."""

import pytest
import torch

from vaekit.data import DATASETS, SPLITS, Dataset, load
from vaekit.errors import DataError


def test_names():
    assert DATASETS == ("mnist", "fashion-mnist", "digits", "frey")
    assert SPLITS == ("train", "val", "test")


def test_unknown_dataset():
    with pytest.raises(DataError, match=r"unknown dataset 'cifar': expected one of mnist, fashion-mnist, digits, frey, or a path"):
        load("cifar")


def test_unknown_split():
    with pytest.raises(DataError, match=r"split 'valid': expected one of train, val, test"):
        load("digits", "valid")


def test_image_size_resizes_any_dataset():
    ds = load("digits", "val", image_size=16)
    assert ds.images.shape == (179, 1, 16, 16) and ds.images.dtype == torch.uint8
    assert load("digits", "val", image_size=(8, 8)).images.equal(load("digits", "val").images)
    flat = torch.full((3, 1, 8, 8), 200, dtype=torch.uint8)  # resizing keeps a constant image constant
    from vaekit.data.resize import resize
    assert (resize(flat, (5, 11)) == 200).all()


@pytest.mark.parametrize("bad", [0, -3, (8,), (8, 0), "16", 2.5, True])
def test_bad_image_size(bad):
    with pytest.raises(DataError, match=r"image_size: expected a positive int or \(H, W\) of positive ints, got"):
        load("digits", image_size=bad)


def test_dataset_container():
    ds = load("digits", "test")
    assert len(ds) == 359 and ds.image_shape == (1, 8, 8)
    assert repr(ds) == "Dataset(name='digits', split='test', images=uint8(359, 1, 8, 8), labels=int64(359,))"
    with pytest.raises(AttributeError):
        ds.split = "train"
    with pytest.raises(DataError, match=r"x: expected images as a uint8 tensor \(N, C, H, W\), got torch.float32"):
        Dataset("x", "train", torch.zeros(2, 1, 3, 3))
    with pytest.raises(DataError, match=r"x: expected labels as an int64 tensor of shape \(2,\), got torch.int64 \(3,\)"):
        Dataset("x", "train", torch.zeros(2, 1, 3, 3, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64))
