"""Which torch device a run uses, how much memory it has, and the CPU's treatment of denormal floats."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .errors import ConfigError
from .settings import DEVICES
from .validate import choice

USABLE = 0.8   # of a device's memory: what vaekit plans to use at most (train.limits, data resizing)


def resolve_device(name: str) -> torch.device:
    """``auto`` (a CUDA GPU if PyTorch sees one, else the CPU), ``cpu`` or ``cuda``."""
    choice("device", name, DEVICES)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("`device='cuda'` was asked for, but PyTorch sees no CUDA GPU (use `device='cpu'` or "
                          "`device='auto'`)", setting="device")
    return torch.device(name)


def memory_bytes(device: torch.device | str = "cpu") -> int | None:
    """Bytes of memory of ``device``: the GPU's, or this machine's physical memory (None where it
    cannot be told)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


@contextmanager
def flush_denormals(device: torch.device | str) -> Iterator[None]:
    """Within the block, the CPU treats denormal floats (|x| < 1.2e-38 in float32) as 0.

    Some x86 CPUs take tens of times longer over an operation with a denormal operand or
    result, and training makes them: Adam's first moment of a weight whose gradient is
    exactly 0 (a dead ReLU unit) decays by 0.9 a step into the denormals and, rounded to
    nearest, stays there (most of the conv VAE's two large layers after a few epochs on
    MNIST).  Flushing changes results only below 1.2e-38.  ``torch.set_flush_denormal`` sets the calling
    thread (and threads it starts later), so the caller's setting is restored on exit;
    PyTorch's OpenMP workers that already run keep theirs.  Does nothing on other devices.
    """
    if torch.device(device).type != "cpu":
        yield
        return
    was_flushing = flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_flushing)


def flushing_denormals() -> bool:
    """Whether the CPU flushes denormals now (PyTorch has no getter: a denormal times 1 tells)."""
    return bool((torch.tensor([1e-39]) * 1.0).item() == 0.0)
