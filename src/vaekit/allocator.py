"""How the C library's malloc treats the large tensors PyTorch frees on the CPU.

glibc's malloc serves a request above its mmap threshold with fresh pages from the system
and gives them back on free; it also hands freed memory at the top of its heap back once
more than the trim threshold is free.  Both thresholds start at 128 KiB and move with the
blocks freed (up to 32 MiB), so whether a tensor lands on pages already mapped depends on
the history of the process.  Each fresh page costs a page fault on first touch: for
``vaekit eval``'s chunks of 4096 decoded MNIST images, whose logits and their temporaries are
13 MB each, that is a large share of the time, and it comes and goes from run to run (the
measurements: ``docs/performance.md``, "Page faults and glibc's malloc").

``keep_freed_memory`` fixes the thresholds (mallopt(3)): blocks up to 32 MiB come from the
heap, and the heap keeps up to 256 MiB of freed memory for the next chunk.  The CLI calls it
when it starts (every command but ``download``); library users may call it themselves.  It
changes the whole process and cannot be undone, so ``VAEKIT_KEEP_FREED_MEMORY=0`` turns it off.
No torch here: ``vaekit --help`` stays fast.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1          # <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20      # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 << 20
SWITCH = "VAEKIT_KEEP_FREED_MEMORY"


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed blocks below 32 MiB for reuse; True if it applied.

    False, changing nothing, where ``VAEKIT_KEEP_FREED_MEMORY`` is ``0``, where the C library
    has no ``mallopt`` (not glibc: macOS, musl) or where it refuses a value.
    """
    if os.environ.get(SWITCH, "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
