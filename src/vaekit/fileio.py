"""Reading files a user or another process may have damaged: regular files only, with a size limit.

A run directory's files can be replaced by anything: a symlink to /dev/zero (read forever),
a FIFO (blocks forever), a huge file.  ``read_bytes`` opens without blocking, refuses
anything that is not a regular file, and refuses a file larger than ``limit`` before
reading it, so no input can make vaekit hang or allocate without bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFile(OSError):
    """The path is not a regular file, or is larger than the limit; the message says which."""


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The whole content of the regular file ``path``, if it holds at most ``limit`` bytes.

    Raises FileNotFoundError if it is missing, ``UnsafeFile`` if it is not a regular file or
    too large, another OSError if it cannot be read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path}: expected a regular file, got {_kind(info.st_mode)}")
        if info.st_size > limit:
            raise UnsafeFile(f"{path}: expected at most {limit:,} bytes, got {info.st_size:,}")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:   # it grew while we read it
            raise UnsafeFile(f"{path}: expected at most {limit:,} bytes, got more")
        return data
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def read_head(path: str | Path, n: int) -> tuple[bytes, int]:
    """The first ``n`` bytes of the regular file ``path`` (fewer if it is shorter), and its size."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path}: expected a regular file, got {_kind(info.st_mode)}")
        return os.read(fd, n), info.st_size
    finally:
        os.close(fd)


def write_error(path: str | Path, err: OSError) -> str:
    """An OSError from writing ``path`` as words a user can act on (a full disk says so)."""
    import errno

    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"cannot write {path}: the disk is full (no space left on the device)"
    return f"cannot write {path}: {err.strerror or err}"
