"""Fixtures for the data tests: an environment with no data folders set, so that no test reads
a developer's own download cache or $VAEKIT_DATA_DIR.  The data files themselves come from
tests/files (see ``tests/data_files.py`` and the fixtures of ``tests/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No $VAEKIT_DATA_DIR, and an empty download cache."""
    monkeypatch.delenv("VAEKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
