"""Fixtures for the data tests: the real MNIST and Frey files (under the ``shared_data``
folder of tests/conftest.py), and an environment with no data folders set, so that no test
reads a developer's own download cache or $VAEKIT_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No $VAEKIT_DATA_DIR, and an empty download cache."""
    monkeypatch.delenv("VAEKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def mnist_dir(shared_data) -> Path:
    folder = shared_data / "mnist"
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"{folder} holds no MNIST files")
    return folder


@pytest.fixture(scope="session")
def frey_file(shared_data) -> Path:
    path = shared_data / "frey" / "frey_rawface.mat"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path
