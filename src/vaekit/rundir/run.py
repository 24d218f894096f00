"""A run directory: the one place that knows its layout, creates it, writes it and reads it.

Writers hold the run's lock (``lock.RunLock``) from ``create``/``resume`` until ``close``;
readers take none and always see whole files (every write is a temporary file, then a
rename).  See ``layout`` for the files and the order they are written in.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from .. import __version__, atomic
from ..errors import CheckpointError, RunDirError
from ..fileio import UnsafeFile, read_bytes, write_error
from ..jsonio import dumps
from . import checkpoint
from .layout import (CHECKPOINT_NAME, CHECKPOINTS, CONFIG, CONFIG_LIMIT, FIGURES, FORMAT, KINDS, LOCK, METRICS,
                     METRICS_LIMIT, POINTER, TEMP_NAME, is_ours)
from .lock import RunLock

CONFIG_KEYS = ("format", "kind", "model", "fit", "data", "device", "vaekit_version", "torch_version", "command")


def check_path(out) -> Path:
    """``out`` as a Path, or RunDirError for a value that cannot name a run directory."""
    text = os.fspath(out) if isinstance(out, os.PathLike) else out
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not isinstance(text, str) or not text.strip():
        raise RunDirError(f"out must name a directory; got {out!r}", setting="out")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RunDirError(f"out must be a valid UTF-8 path; got {text.encode('utf-8', 'surrogateescape')!r}",
                          setting="out") from None
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path}: exists and is not a directory; `out` must be a directory")
    for parent in path.absolute().parents:   # FILE/sub: the folders above must be folders too
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise RunDirError(f"{path}: {parent} is a file, not a directory; `out` must be a directory path")
            break
    return path


def run_config(kind: str, model: dict, fit: dict, data: dict, device: str, command: list[str]) -> dict:
    """The one layout of config.json for every kind of run."""
    import torch

    return {"format": FORMAT, "kind": kind, "model": model, "fit": fit, "data": data, "device": device,
            "vaekit_version": __version__, "torch_version": torch.__version__, "command": list(command)}


# ---- reading (no lock) ------------------------------------------------------------------------


def _upgrade(config: dict) -> dict:
    """A config.json written by vaekit 0.1 (``train`` or ``gmm`` keys) in today's layout."""
    if "format" in config or "vaekit_version" not in config:
        return config
    if "train" in config:
        kind, fit = config["train"].get("model", "vae"), config["train"]
    else:
        kind, fit = config.get("kind"), {**config.get("fit", {}), **config.get("data", {})}
        config = {**config, "model": config.get("gmm")}
    return {**config, "format": FORMAT, "kind": kind, "fit": fit}


def read_config(run_dir: str | Path) -> dict:
    """The run's config.json, checked to be one vaekit wrote (CheckpointError otherwise)."""
    path = Path(run_dir) / CONFIG
    try:
        config = _upgrade(json.loads(read_bytes(path, CONFIG_LIMIT)))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; {run_dir} is not a vaekit run directory") from None
    except (OSError, ValueError, AttributeError, TypeError) as e:
        why = str(e) if isinstance(e, UnsafeFile) else type(e).__name__
        raise CheckpointError(f"{path}: corrupted or unreadable ({why})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a vaekit run config (expected \"format\": \"{FORMAT}\")")
    missing = [k for k in CONFIG_KEYS if k not in config]
    if missing or config["kind"] not in KINDS or not all(isinstance(config[k], dict) for k in ("model", "fit", "data")):
        raise CheckpointError(f"{path}: damaged run config (expected keys {', '.join(CONFIG_KEYS)} with kind one of "
                              f"{', '.join(KINDS)}; missing {', '.join(missing) or 'none'})")
    return config


def read_metrics(run_dir: str | Path, upto: int | None = None, key: str = "epoch") -> list[dict]:
    """The records of metrics.jsonl that can be read, one per ``key`` value (<= ``upto``), in order.

    The checkpoint is the truth: a damaged line is skipped, not an error, so metrics never
    block a resume; records past ``upto`` (written after the last checkpoint) are dropped.
    """
    try:
        text = read_bytes(Path(run_dir) / METRICS, METRICS_LIMIT).decode("utf-8", "replace")
    except OSError:
        return []
    records: dict[int, dict] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get(key), int) and (upto is None or record[key] <= upto):
            records[record[key]] = record
    return [records[k] for k in sorted(records)]


def load_model(run_dir: str | Path, device="cpu"):
    """The trained model of a run (a ``VAE`` or ``GaussianMixture``), in eval mode on ``device``."""
    model, _, _ = checkpoint.load(run_dir)
    return model.to(device).eval()


def status(path: Path) -> str:
    """"new" (absent or empty), "half" (config.json, no checkpoint yet), "run", or "foreign"."""
    if not path.is_dir():
        return "new"
    names = {p.name for p in path.iterdir() if p.name != LOCK and not TEMP_NAME.fullmatch(p.name)}
    if not names:
        return "new"
    if POINTER in names:
        return "run"
    if CONFIG in names:
        try:
            read_config(path)
            return "half"
        except CheckpointError:
            return "foreign"
    return "foreign"


def resumable(out) -> Path:
    """``out`` as a Path if it holds a run that ``RunDir.resume`` can continue; its errors otherwise.

    Read-only (no lock): for the processes of a torchrun job that only read the run.
    """
    path = check_path(out)
    if not path.is_dir() or status(path) == "new":
        raise CheckpointError(f"{path}: no checkpoint found (expected {POINTER}); is this a vaekit run directory?")
    _refuse_foreign(path)
    return path


# ---- writing (locked) ------------------------------------------------------------------------


class RunDir:
    """A run directory held for writing.  Make one with ``create`` or ``resume``; ``close`` it."""

    def __init__(self, path: Path, lock: RunLock):
        self.path, self._lock = path, lock
        self.made = False   # whether this run made its folder (``discard`` then removes it)

    @classmethod
    def create(cls, out, what: str = "run") -> "RunDir":
        """A fresh run in ``out`` (created if needed), locked.

        ``out`` may be absent, empty, or a half-made run (whose files are replaced); a
        folder holding a run, or anything vaekit did not write, is refused.
        """
        path = check_path(out)
        _refuse_foreign(path)
        made = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"cannot make the run directory {path}: {e.strerror or e}") from None
        run = cls(path, _lock(path))
        run.made = made
        try:
            state = status(path)
            if state == "run":
                raise RunDirError(f"{path}: already holds a {_kind_of(path)} run; "
                                  f"{'use `resume=True` to continue it or ' if what == 'train' else ''}choose another `out`")
            if state == "foreign":
                raise RunDirError(f"{path}: is not empty and is not a vaekit run; choose an empty or new `out`")
            run._remove_own_files()   # a half-made run's files, or temporary files of a killed writer
        except BaseException:
            run.close()
            raise
        return run

    @classmethod
    def create_numbered(cls, parent: str | Path, stem: str) -> "RunDir":
        """A fresh run in ``parent/<stem>-N`` for the first N >= 1 not taken (made atomically)."""
        parent = check_path(parent)
        parent.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1_000_000):
            path = parent / f"{stem}-{n}"
            try:
                path.mkdir()
            except FileExistsError:
                continue
            run = cls.create(path)
            run.made = True
            return run
        raise RunDirError(f"{parent}: no free run directory name {stem}-N")

    @classmethod
    def resume(cls, out) -> "RunDir":
        """The run in ``out``, locked for continuing it (CheckpointError if there is none)."""
        path = resumable(out)
        run = cls(path, _lock(path))
        if status(path) == "new":   # (looked at again under the lock)
            run.close()
            resumable(path)
        return run

    def close(self) -> None:
        self._lock.release()

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # the writes, each atomic; an OSError becomes one line naming the file
    def _write(self, name: str, data: bytes) -> None:
        path = self.path / name
        try:
            atomic.write_bytes(path, data)
        except OSError as e:
            raise RunDirError(write_error(path, e)) from None

    def write_config(self, config: dict) -> None:
        self._write(CONFIG, (dumps(config, indent=2) + "\n").encode())

    def write_metrics(self, records: list[dict]) -> None:
        self._write(METRICS, "".join(dumps(r) + "\n" for r in records).encode())

    def write_figure(self, name: str, png: bytes) -> None:
        if name not in FIGURES:
            raise ValueError(f"unknown figure {name!r}; expected one of {', '.join(FIGURES)}")
        self._write(name, png)

    def save_checkpoint(self, model, state: dict, epoch: int) -> None:
        checkpoint.save(self.path, model, state, epoch)

    def discard(self) -> None:
        """Undo a run that ended before its first checkpoint, and close it.

        What vaekit wrote goes (config.json, metrics, temporary files, the lock file), and the
        folder too if this run made it; a folder that was there before stays, and so does
        anything else in it.  A run that holds a checkpoint is never discarded.
        """
        if status(self.path) == "run":
            raise RunDirError(f"{self.path}: holds a checkpoint; a run is discarded only before its first one")
        self._remove_own_files()
        _remove_if_empty(self.path / CHECKPOINTS)
        (self.path / LOCK).unlink(missing_ok=True)
        self.close()
        if self.made:
            _remove_if_empty(self.path)

    def _remove_own_files(self) -> None:
        """Delete what vaekit wrote here (a half-made run), by name; leave everything else."""
        for entry in self.path.iterdir():
            if entry.name == LOCK or not is_ours(entry.name):
                continue
            if entry.name == CHECKPOINTS and entry.is_dir() and not entry.is_symlink():
                for sub in entry.iterdir():
                    if (CHECKPOINT_NAME.fullmatch(sub.name) or TEMP_NAME.fullmatch(sub.name)) and not sub.is_symlink():
                        shutil.rmtree(sub, ignore_errors=True)
            elif entry.is_file() or entry.is_symlink():
                entry.unlink()


def _remove_if_empty(folder: Path) -> None:
    try:
        if folder.is_dir() and not folder.is_symlink():
            folder.rmdir()
    except OSError:   # not empty: something vaekit did not write is there, and stays
        pass


def _lock(path: Path) -> RunLock:
    try:
        return RunLock(path).acquire()
    except OSError as e:
        raise RunDirError(write_error(path / LOCK, e)) from None


def _refuse_foreign(path: Path) -> None:
    if path.is_dir() and status(path) == "foreign":
        raise RunDirError(f"{path}: is not empty and is not a vaekit run; choose an empty or new `out`")


def _kind_of(path: Path) -> str:
    try:
        return read_config(path)["kind"]
    except CheckpointError:
        return "vaekit"


def command_line(argv: list[str] | None) -> list[str]:
    """The command as the user typed it: ``vaekit`` and the arguments ``main`` was given."""
    return ["vaekit", *(sys.argv[1:] if argv is None else argv)]
