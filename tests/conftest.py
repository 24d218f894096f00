import os
from pathlib import Path

import pytest
import torch

from data_files import MNIST_SLICE, full_count_frey, full_count_mnist

REPO = Path(__file__).resolve().parents[1]

# Tests are CPU-only and must not depend on how many cores the machine has.  Under pytest-xdist
# (pyproject's addopts: -n auto) the workers share the cores: one thread each.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, os.cpu_count() or 1))

# The test processes pytest-xdist starts (pyproject's addopts: -n auto): one per core, at most
# MAX_WORKERS.  -n 0 runs the suite in this process.
MAX_WORKERS = 4
# How the tests are shared out (addopts: --dist loadscope, scheduled by GroupScheduling below): the
# folders whose tests share session fixtures (a real `vaekit lecture --quick`; trained runs and their
# servers) go whole to one worker, so those fixtures are made once; every other test file is a group
# of its own.  The groups that take longest go first (with --no-loadscope-reorder, the collection's
# order): a worker that took one at the end would keep the other waiting.
SHARED_FIXTURES = ("lecture", "web")
LONGEST_FIRST = ("lecture", "web", "train/test_distributed.py", "train/test_two_machines.py")
TESTS = Path(__file__).resolve().parent


def group(nodeid: str) -> str:
    """The group of a test, by its node id (``tests/web/test_api.py::test_x[a]`` -> ``web``)."""
    path = Path(nodeid.split("::", 1)[0])
    parts = path.parts[1:] if path.parts[0] == TESTS.name else path.parts
    return parts[0] if parts[0] in SHARED_FIXTURES else "/".join(parts)


def pytest_xdist_auto_num_workers(config):
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None                                  # another --dist: pytest-xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """pytest-xdist's scope scheduling with ``group`` as the scope (as its own LoadFileScheduling
        does with the file)."""

        def _split_scope(self, nodeid: str) -> str:
            return group(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """The longest groups first (a stable sort: the order within a group is kept)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group(item.nodeid), len(rank)))


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
