"""Which torch device a run uses."""

from __future__ import annotations

import torch

from .errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` (a CUDA GPU if PyTorch sees one, else the CPU), ``cpu`` or ``cuda``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but PyTorch sees no CUDA GPU (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"--device must be one of auto, cpu, cuda; got {name!r}")
    return torch.device(name)
