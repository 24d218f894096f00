"""``load`` dispatch and argument checks, and the Dataset container."""

import pytest
import torch

from vaekit.data import DATASETS, SPLITS, Dataset, load
from vaekit.errors import ConfigError, DataError


def test_names():
    assert DATASETS == ("mnist", "fashion-mnist", "digits", "frey", "moons", "moons-pair", "spiral", "spiral-d2",
                        "spiral-d8", "spiral-d32", "spiral-d128", "linear-gaussian")
    assert SPLITS == ("train", "val", "test")


def test_unknown_dataset():
    with pytest.raises(DataError, match=r"unknown dataset 'cifar': expected one of mnist, fashion-mnist, digits, frey, moons, moons-pair, spiral, "
                       r"spiral-d2, spiral-d8, spiral-d32, spiral-d128, linear-gaussian, or a path"):
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
    with pytest.raises(ConfigError, match=r"^image_size must be a positive integer or \(H, W\) of positive integers; got"):
        load("digits", image_size=bad)


def test_dataset_container():
    ds = load("digits", "test")
    assert len(ds) == 359 and ds.image_shape == (1, 8, 8)
    assert repr(ds) == "Dataset(name='digits', split='test', images=uint8(359, 1, 8, 8), labels=int64(359,))"
    with pytest.raises(AttributeError):
        ds.split = "train"
    with pytest.raises(DataError, match=r"x: expected images as a uint8 \(pixels\) or float32 \(continuous values\) "
                                         r"tensor \(N, C, H, W\), got torch.float64"):
        Dataset("x", "train", torch.zeros(2, 1, 3, 3, dtype=torch.float64))
    with pytest.raises(DataError, match=r"x: expected finite continuous values, got 1 NaN or infinite"):
        Dataset("x", "train", torch.tensor([0.0, float("nan")]).view(2, 1, 1, 1))
    with pytest.raises(DataError, match=r"x: expected labels as an int64 tensor of shape \(2,\), got torch.int64 \(3,\)"):
        Dataset("x", "train", torch.zeros(2, 1, 3, 3, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64))


def test_continuous_data_is_used_as_it_is_by_a_gaussian_likelihood_only():
    from vaekit.data.transforms import TrainingBatches

    values = torch.linspace(-2, 3, 8).view(4, 1, 1, 2)
    ds = Dataset("points", "test", values.clone())
    assert ds.continuous and not load("digits", "test").continuous
    assert torch.equal(ds.model_input("gaussian"), values)
    with pytest.raises(DataError, match=r"points: continuous \(float\) data needs likelihood gaussian; got bernoulli"):
        ds.model_input("bernoulli")
    batches = TrainingBatches(values, "gaussian")
    assert torch.equal(batches(torch.tensor([3, 0])), values[[3, 0]])
    with pytest.raises(ValueError, match="needs likelihood gaussian"):
        TrainingBatches(values, "bernoulli")
