"""What the bench scripts share: a plain matmul rate and device synchronisation."""

from __future__ import annotations

import statistics
import time

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_gflops(device: torch.device, n: int = 2048, reps: int = 20) -> float:
    """The median rate of a plain n x n float32 matrix product, GFLOP/s (5 timings)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(5):
        sync(device)
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(device)
        rates.append(2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9)
    return statistics.median(rates)
