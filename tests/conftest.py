import os
from pathlib import Path

import pytest
import torch

from data_files import MNIST_SLICE, full_count_frey, full_count_mnist

REPO = Path(__file__).resolve().parents[1]

# Tests are CPU-only and must not depend on how many cores the machine has.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def mnist_slice() -> Path:
    """The folder of the shipped MNIST slices (tests/files/mnist: 500 train, 200 test images)."""
    return MNIST_SLICE


@pytest.fixture(scope="session")
def mnist_full(tmp_path_factory) -> Path:
    """A folder of four gzipped MNIST IDX files with the official counts, tiled from the slices."""
    return full_count_mnist(tmp_path_factory.mktemp("mnist") / "mnist")


@pytest.fixture(scope="session")
def frey_full(tmp_path_factory) -> Path:
    """A frey_rawface.mat of the official shape (1,965 frames), tiled from the shipped 100."""
    return full_count_frey(tmp_path_factory.mktemp("frey") / "frey")
