"""One writer per run directory: an OS file lock (flock) on RUN_DIR/.lock.

The kernel drops the lock when the process ends, however it ends (SIGKILL included), so
there is never a stale lock to clean up.  The holder writes its PID into the file so that
a second writer can say who holds it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import RunDirError
from .layout import LOCK

try:
    import fcntl
except ImportError:   # not POSIX: no locking (vaekit's tests and CI are POSIX)
    fcntl = None


class RunLock:
    """``with RunLock(run_dir): ...`` holds the lock of ``run_dir`` or raises RunDirError at once."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK
        self.fd: int | None = None

    def acquire(self) -> "RunLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise RunDirError(f"{self.path.parent}: another vaekit process (PID {holder}) is writing this run; "
                                  "wait for it to finish or choose another `out`") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)   # closing the descriptor releases the flock
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
