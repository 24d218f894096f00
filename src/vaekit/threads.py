"""How many CPU threads a computation uses: one for work too small to split.

PyTorch runs each CPU operation on a pool of one OpenMP thread per core.  A small model's
operations (a few hundred thousand weights, batches of a hundred) take tens of microseconds;
split over two threads, most of that time goes to the threads waiting for each other, and
when another process holds a core the waiting thread spins on it, so the step takes many
times longer.  Such work runs on one thread: as fast when the machine is idle, and it never
waits for a core that something else holds.  Larger work keeps PyTorch's setting.

``step_flops`` estimates one training step's arithmetic from the model's size, ``training_threads``
picks the count (``threads`` setting: 0 = this rule, N = N threads) and ``cpu_threads`` sets it
within a block with ``torch.set_num_threads`` (a public switch), restoring it afterwards.
``bench/threads_load.py`` measures the effect, alone and beside another process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

# A training step below this many floating-point operations runs on one thread: the lecture's
# image VAE on 8×8 digits (~3e7 a step) and its moon models (~1.6e8) do; the 784-400-20 MNIST VAE
# (~5e8) keeps PyTorch's threads, as before.
SMALL_STEP_FLOPS = 3e8


def step_flops(model: torch.nn.Module, batch_size: int) -> float:
    """About 6 FLOPs per weight per example for one step: 2 forward (a multiply and an add), 4 backward."""
    return 6.0 * batch_size * sum(p.numel() for p in model.parameters())


def training_threads(threads: int, model: torch.nn.Module, batch_size: int, device) -> int | None:
    """The thread count to train with: ``threads`` if positive; for 0 (auto), 1 when a step is small
    (below SMALL_STEP_FLOPS) on the CPU, else None (PyTorch's current setting)."""
    if threads > 0:
        return threads
    if torch.device(device).type != "cpu":
        return None
    return 1 if step_flops(model, batch_size) < SMALL_STEP_FLOPS else None


@contextmanager
def cpu_threads(n: int | None) -> Iterator[None]:
    """Within the block PyTorch's CPU operations use ``n`` threads (None: leave the setting as it is)."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
