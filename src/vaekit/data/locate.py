"""Where a named dataset's files are looked for, in order.

1. the ``data_dir`` argument, 2. ``$VAEKIT_DATA_DIR``: in each, first the subfolder named
after the dataset (``<dir>/mnist/``), then the folder itself.  The subfolder comes first
because MNIST and Fashion-MNIST use the same file names, so one folder can hold both only
as ``mnist/`` and ``fashion-mnist/``.
3. system folders of distribution packages (Debian's ``dataset-fashion-mnist`` installs the
four gzipped IDX files, official names, in ``/usr/share/datasets/fashion-mnist/``).
4. the download cache ``$XDG_CACHE_HOME/vaekit/<name>`` (default ``~/.cache/vaekit/<name>``),
where ``vaekit download <name>`` puts the files.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

ENV_VAR = "VAEKIT_DATA_DIR"
SYSTEM_DIRS = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}


def cache_dir(name: str) -> Path:
    """The download cache folder of dataset ``name`` (it may not exist yet)."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "vaekit" / name


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for dataset ``name``, in order (see module doc), without repeats."""
    dirs: list[Path] = []
    for base in (data_dir, os.environ.get(ENV_VAR) or None):
        if base is not None:
            base = Path(base).expanduser()
            dirs += [base / name, base]
    dirs += SYSTEM_DIRS.get(name, ())
    dirs.append(cache_dir(name))
    return list(dict.fromkeys(dirs))


def find_dir(name: str, filenames: tuple[str, ...], data_dir: str | os.PathLike | None = None) -> Path:
    """The first candidate folder that holds any of ``filenames``.

    Files the chosen folder lacks are reported by the caller, naming the file, rather than
    searched for elsewhere: one dataset is never stitched together from several folders.
    """
    looked = candidate_dirs(name, data_dir)
    for folder in looked:
        if any((folder / f).is_file() for f in filenames):
            return folder
    raise DataError(f"{name}: expected its files in one of {', '.join(map(str, looked))}; found none "
                    f"(`vaekit download {name}` fetches them, or pass data_dir / set ${ENV_VAR})")
