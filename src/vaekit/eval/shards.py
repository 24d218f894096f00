"""Which batches of an evaluation this process computes, and the random draws of each.

    for rows, generator in batches(n, batch_size, device, seed=seed): ...

Batch j (examples j·B to (j+1)·B) draws its noise from its own generator, seeded by (seed, j),
so an example gets the same draws whether one process evaluates everything or torchrun's
ranks share the batches (round-robin: rank r takes j = r, r + W, ...).  Sums over the
batches, reduced over ranks (``distributed.all_sum``), then equal the one-process sums up to
the order of floating-point additions.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .. import distributed


def batch_seed(seed: int, j: int) -> int:
    """The seed of batch j of an evaluation seeded with ``seed``."""
    return (seed * 1_000_003 + j) % 2 ** 63


def seeded_batches(n: int, batch_size: int, seed: int, device) -> Iterator[tuple[slice, torch.Generator]]:
    """This rank's batches of n examples: (rows, a generator seeded for that batch)."""
    for j in range(distributed.rank(), -(-n // batch_size), distributed.world_size()):
        yield slice(j * batch_size, (j + 1) * batch_size), torch.Generator(device=device).manual_seed(batch_seed(seed, j))


def batches(n: int, batch_size: int, device, generator: torch.Generator | None = None,
            seed: int | None = None) -> Iterator[tuple[slice, torch.Generator | None]]:
    """The batches an evaluation of n examples computes here, each with the generator it draws from:
    every batch in order sharing ``generator``, or, with ``seed``, this rank's ``seeded_batches``."""
    if seed is None:
        return ((slice(i, i + batch_size), generator) for i in range(0, n, batch_size))
    return seeded_batches(n, batch_size, seed, device)
