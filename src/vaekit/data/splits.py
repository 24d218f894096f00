"""Train/val/test splits: the names, and seeded carving of a dataset without official ones.

Carving orders the indices 0..N-1 by a fixed 64-bit hash (splitmix64) of (seed, index), so
a split depends only on N and the seed: never on numpy or torch versions, never on a
global random state.  The first floor(N * test_fraction) indices in that order are the test
split, the next floor(N * val_fraction) the val split, the rest train; each split keeps the
original order of its items.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError

SPLITS = ("train", "val", "test")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEED_MIX = np.uint64(0xD1B54A32D192ED03)


def check_split(split: str) -> None:
    """DataError unless ``split`` is one of SPLITS."""
    if split not in SPLITS:
        raise DataError(f"split {split!r}: expected one of {', '.join(SPLITS)}")


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic is intended)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def carve(n: int, val_fraction: float, test_fraction: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Disjoint, sorted index arrays {"train", "val", "test"} covering 0..n-1 (see module doc)."""
    with np.errstate(over="ignore"):
        state = (np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN) + np.uint64(seed) * _SEED_MIX
    order = np.argsort(_splitmix64(state), kind="stable")
    n_test, n_val = int(n * test_fraction), int(n * val_fraction)
    return {
        "test": np.sort(order[:n_test]),
        "val": np.sort(order[n_test:n_test + n_val]),
        "train": np.sort(order[n_test + n_val:]),
    }


def carved_split(name: str, n: int, split: str, val_fraction: float, test_fraction: float,
                 seed: int = 0) -> np.ndarray:
    """Indices of ``split`` (sorted) from ``carve``; DataError if that split comes out empty."""
    index = carve(n, val_fraction, test_fraction, seed)[split]
    if len(index) == 0:
        fraction = {"train": 1 - val_fraction - test_fraction, "val": val_fraction, "test": test_fraction}[split]
        need = int(np.ceil(1 / fraction)) if fraction > 0 else "more"
        raise DataError(f"{name}: expected enough items for a non-empty {split} split "
                        f"({fraction:.0%} of N, rounded down), got N={n}; need at least {need}")
    return index
