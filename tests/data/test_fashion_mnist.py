"""Fashion-MNIST from Debian's dataset-fashion-mnist package, found without any data_dir."""

from pathlib import Path

import pytest
import torch

from vaekit.data import load

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason=f"{DEBIAN_DIR} is absent (package dataset-fashion-mnist)")
def test_loads_from_the_debian_package():
    splits = {s: load("fashion-mnist", s) for s in ("train", "val", "test")}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [50_000, 10_000, 10_000]
    assert all(ds.image_shape == (1, 28, 28) for ds in splits.values())
    train_labels = torch.cat([splits["train"].labels, splits["val"].labels])
    assert torch.bincount(train_labels).tolist() == [6000] * 10
    assert torch.bincount(splits["test"].labels).tolist() == [1000] * 10
