"""Output buffers reused from call to call: the training batches are drawn into these, not fresh tensors."""

from __future__ import annotations

import torch


class Workspace:
    """Buffers kept from call to call, one per (name, shape): ``buf = ws(name, shape, like)``.

    ``like`` gives the device, and the dtype unless ``dtype`` is given.  Allocating fresh
    100 kB-1 MB tensors every step costs page faults and cache misses on a CPU; reusing them
    does not.  (The hand-written training step keeps its own buffers, one set per batch
    size, so that a step looks them up once: ``objectives.fused.ElboStep``.)
    A buffer's contents are whatever the last user wrote: it is scratch, not state.
    """

    def __init__(self):
        self.buffers: dict[tuple, torch.Tensor] = {}

    def __call__(self, name, shape, like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        dtype = like.dtype if dtype is None else dtype
        key = (name, tuple(shape))
        buf = self.buffers.get(key)
        if buf is None or buf.device != like.device or buf.dtype != dtype:
            buf = self.buffers[key] = torch.empty(shape, device=like.device, dtype=dtype)
        return buf
