"""``Dataset.model_input``: the fixed binarisation or dequantisation of a split, as ``vaekit eval`` scores it."""

import pytest
import torch

from vaekit.data import Dataset, load
from vaekit.data.transforms import split_input
from vaekit.errors import ConfigError, DataError


@pytest.mark.parametrize("split", ["train", "val", "test"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_model_input_is_the_splits_fixed_draw(split, likelihood):
    ds = load("digits", split)
    x = ds.model_input(likelihood)
    assert x.shape == (len(ds), 1, 8, 8) and x.dtype == torch.float32
    assert torch.equal(x, split_input(ds.images, likelihood, split))   # what `vaekit eval` scores
    assert torch.equal(x, ds.model_input(likelihood, device="cpu"))     # fixed: the same every call
    if likelihood == "bernoulli":
        assert set(x.unique().tolist()) == {0.0, 1.0}
        # black pixels stay 0, white ones 1; the rest are drawn with probability pixel/255
        assert (x[ds.images == 0] == 0).all() and (x[ds.images == 255] == 1).all()
    else:
        pixels = ds.images.float()
        # (pixel + u)/256, u in [0, 1): pixel + u may round up to pixel + 1 in float32
        assert ((x * 256 >= pixels) & (x * 256 <= pixels + 1)).all()


def test_model_input_differs_between_splits_of_the_same_images():
    images = torch.randint(0, 256, (50, 1, 4, 4), dtype=torch.uint8)
    val, test = Dataset("a", "val", images), Dataset("a", "test", images)
    assert not torch.equal(val.model_input("bernoulli"), test.model_input("bernoulli"))


def test_model_input_errors_name_the_parameter():
    ds = Dataset("a", "val", torch.zeros(3, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(ConfigError, match=r"^likelihood must be one of bernoulli, gaussian; got 'poisson'$") as info:
        ds.model_input("poisson")
    assert info.value.setting == "likelihood"
    odd = Dataset("a", "holdout", torch.zeros(3, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(DataError, match=r"^a: model_input needs a split with a fixed draw, one of train, val, test; "
                                        r"got split 'holdout'$"):
        odd.model_input("bernoulli")
