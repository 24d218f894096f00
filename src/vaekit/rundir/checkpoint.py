"""Checkpoints inside a run directory: written atomically, read safely, kept until superseded.

    checkpoint.json                   the pointer: {"epoch", "path", "sha256": {file: hex}, "vaekit_version"}
    checkpoints/epoch-000012/
        model.safetensors             weights, with the model type and config as metadata
        state.pt                      optimizer, RNG and epoch state; read with torch.load(weights_only=True)

Writing: both files are serialised in memory, written into a folder with a name unique to
the process, fsynced and renamed into place; only then is the pointer atomically replaced.
The checkpoint before the current one is kept until the next one is current, so a reader
that resolved the pointer just before it moved still finds its files; a reader whose files
vanished anyway resolves the pointer once more.  Killing the writer at any moment leaves
the pointer naming a complete checkpoint.  A full disk is reported as such and leaves the
previous checkpoint current.

Reading: the weights' header is read first, the model it describes is sized on PyTorch's
``meta`` device (no memory), and a file whose size does not match, or a model past
``MAX_PARAMETERS``, is refused before anything is allocated.  Every file is checked
against the pointer's sha256 before it is parsed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import struct
import warnings
from pathlib import Path

import torch

from .. import __version__, atomic
from ..errors import CheckpointError, ConfigError, RunDirError
from ..fileio import UnsafeFile, read_bytes, read_head, write_error
from .layout import (CHECKPOINT_NAME, CHECKPOINTS, POINTER, POINTER_LIMIT, STATE, TEMP_NAME, WEIGHTS,
                     checkpoint_name)

MAX_PARAMETERS = 2_000_000_000     # elements of a saved model (8 GB as float32): anything larger is refused
HEADER_LIMIT = 1 << 20            # the safetensors JSON header of a vaekit model is a few kB
STATE_SLACK = 64 << 20            # state.pt: at most 3x the weights (Adam's two moments) plus this


def _model_classes() -> dict:
    """Saved model type -> (config class, model class)."""
    from ..models import ModelConfig, VAE
    from ..models.gmm import GaussianMixture, GMMConfig

    # "autoencoder" is the VAE class's saved name (kind "ae" or "vae" is in its config)
    return {"autoencoder": (ModelConfig, VAE), "gmm": (GMMConfig, GaussianMixture)}


def _type_name(model) -> str:
    for name, (_, cls) in _model_classes().items():
        if isinstance(model, cls):
            return name
    raise TypeError(f"cannot checkpoint a {type(model).__name__}")


# ---- writing --------------------------------------------------------------------------------


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def save(run_dir: Path, model, state: dict, epoch: int) -> Path:
    """Make (weights of ``model``, training ``state``) the run's current checkpoint, for ``epoch``.

    The caller holds the run's lock.  Raises RunDirError (the previous checkpoint stays
    current) if the files cannot be written, a full disk included.
    """
    from safetensors.torch import save as safetensors_bytes

    folder = run_dir / CHECKPOINTS
    name = checkpoint_name(epoch)
    previous = _pointer_target(run_dir)
    weights = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    meta = {"model_type": _type_name(model), "model_config": json.dumps(model.config.to_dict()),
            "vaekit_version": __version__, "epoch": str(epoch)}
    blobs = {WEIGHTS: safetensors_bytes(weights, metadata=meta)}
    buf = io.BytesIO()
    torch.save(state, buf)
    blobs[STATE] = buf.getvalue()
    final = folder / name
    tmp = folder / f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"   # unique per process and attempt
    written = folder
    try:
        folder.mkdir(exist_ok=True)
        tmp.mkdir()
        for f, data in blobs.items():
            written = tmp / f
            _write_file(written, data)
        if final.exists():
            if previous == name:
                raise RunDirError(f"{final}: is the current checkpoint and cannot be written again")
            shutil.rmtree(final)   # an earlier attempt at this epoch that never became current
        written = final
        os.replace(tmp, final)
        atomic.fsync_dir(folder)
        written = run_dir / POINTER
        atomic.write_json(written, {
            "epoch": epoch,
            "path": f"{CHECKPOINTS}/{name}",
            "sha256": {f: hashlib.sha256(data).hexdigest() for f, data in blobs.items()},
            "vaekit_version": __version__,
        })
    except BaseException as e:   # Ctrl-C too: leave no temporary folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(e, OSError):
            raise
        kept = f"the previous checkpoint ({previous}) is kept" if previous else "no checkpoint was written"
        raise RunDirError(f"{write_error(written, e)}; {kept}") from None
    _prune(folder, keep={name, previous})
    return final


def _prune(folder: Path, keep: set) -> None:
    """Remove checkpoint folders older than the last two, and our temporary folders of dead attempts.

    Only names vaekit writes are touched (``epoch-NNNNNN``, ``.epoch-NNNNNN.<id>.tmp``): anything
    else a user put in ``checkpoints/`` stays.
    """
    for entry in folder.iterdir():
        ours = CHECKPOINT_NAME.fullmatch(entry.name) or TEMP_NAME.fullmatch(entry.name)
        if ours and entry.name not in keep and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


# ---- reading --------------------------------------------------------------------------------


def _pointer_target(run_dir: Path) -> str | None:
    """The folder name the pointer names now, or None (no pointer, or an unreadable one)."""
    try:
        return Path(current(run_dir)[1]["path"]).name
    except CheckpointError:
        return None


def current(run_dir: str | Path) -> tuple[Path, dict]:
    """The current checkpoint folder and its pointer record; CheckpointError if missing or corrupted.

    Checks the pointer's form only; the files are checked when they are read.
    """
    run_dir = Path(run_dir)
    pointer = run_dir / POINTER
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: no such run directory")
    try:
        record = json.loads(read_bytes(pointer, POINTER_LIMIT))
    except FileNotFoundError:
        raise CheckpointError(f"{run_dir}: no checkpoint found (expected {POINTER}); "
                              "is this a vaekit run directory?") from None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{pointer}: corrupted checkpoint pointer ({_reason(e)})") from None
    ok = (isinstance(record, dict) and isinstance(record.get("epoch"), int) and isinstance(record.get("path"), str)
          and isinstance(record.get("sha256"), dict)
          and all(isinstance(record["sha256"].get(f), str) for f in (WEIGHTS, STATE)))
    if not ok:
        raise CheckpointError(f"{pointer}: corrupted checkpoint pointer (expected epoch, path and the sha256 "
                              f"of {WEIGHTS} and {STATE})")
    parts = Path(record["path"]).parts
    if len(parts) != 2 or parts[0] != CHECKPOINTS or not CHECKPOINT_NAME.fullmatch(parts[1]):
        raise CheckpointError(f"{pointer}: corrupted checkpoint pointer (path {record['path']!r} is not "
                              f"{CHECKPOINTS}/epoch-NNNNNN)")
    return run_dir / record["path"], record


def _reason(e: Exception) -> str:
    return " ".join(str(e).split()) if isinstance(e, UnsafeFile) else type(e).__name__


def _verified(path: Path, data: bytes, digest: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != digest:
        raise CheckpointError(f"{path}: checkpoint is corrupted (sha256 does not match {POINTER})")
    return data


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_bytes(path, limit)
    except FileNotFoundError:
        raise
    except UnsafeFile as e:
        raise CheckpointError(f"{path}: checkpoint is corrupted ({e})") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({e.strerror or e})") from None


def _header(path: Path) -> tuple[dict, int]:
    """The safetensors header of ``path`` (its JSON) and the file's size, read without the tensors."""
    try:
        head, size = read_head(path, 8 + HEADER_LIMIT)
    except UnsafeFile as e:
        raise CheckpointError(f"{path}: checkpoint is corrupted ({e})") from None
    except NotADirectoryError:   # the checkpoint's folder (or checkpoints/) was replaced by a file
        folder = next((p for p in (path.parent, path.parent.parent) if not p.is_dir()), path.parent)
        raise CheckpointError(f"{folder}: checkpoint is corrupted (not a directory)") from None
    except FileNotFoundError:
        raise
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({e.strerror or e})") from None
    (n,) = struct.unpack("<Q", head[:8]) if len(head) >= 8 else (-1,)
    try:
        if not 0 < n <= HEADER_LIMIT or len(head) < 8 + n:
            raise ValueError
        header = json.loads(head[8:8 + n])
        meta = header["__metadata__"]
        if not isinstance(meta, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"{path}: cannot read the weights (not a vaekit safetensors file)") from None
    return meta, size


def _sized_model(path: Path, meta: dict, size: int):
    """(config, model class, state-dict bytes) of the model ``meta`` describes, checked against ``size``."""
    classes = _model_classes()
    kind = meta.get("model_type", "autoencoder")
    if kind not in classes:
        raise CheckpointError(f"{path}: unknown model type {kind!r}; expected one of {', '.join(classes)}")
    config_cls, model_cls = classes[kind]
    try:
        config = config_cls.from_dict(json.loads(meta["model_config"]))
    except (KeyError, ValueError, TypeError) as e:
        detail = str(e) if isinstance(e, ConfigError) else type(e).__name__
        raise CheckpointError(f"{path}: damaged model config in the weights' metadata ({detail})") from None
    if kind == "autoencoder":   # one saved type, two classes: the config says which (models.build)
        from ..models import model_class

        model_cls = model_class(config)
    with torch.device("meta"):   # sizes without memory
        skeleton = model_cls(config)
    tensors = skeleton.state_dict().values()
    count = sum(t.numel() for t in tensors)
    nbytes = sum(t.numel() * t.element_size() for t in tensors)
    if count > MAX_PARAMETERS:
        raise CheckpointError(f"{path}: the saved config describes a model of {count:,} parameters, "
                              f"more than vaekit loads ({MAX_PARAMETERS:,})")
    if not nbytes < size <= nbytes + 8 + HEADER_LIMIT:
        raise CheckpointError(f"{path}: weights do not fit the saved model config (it needs {nbytes:,} bytes "
                              f"of tensors; the file has {size:,} bytes)")
    return config, model_cls, nbytes


def _load_once(run_dir: Path, want_state: bool):
    from safetensors.torch import load as safetensors_load

    folder, record = current(run_dir)
    path = folder / WEIGHTS
    meta, size = _header(path)
    config, model_cls, nbytes = _sized_model(path, meta, size)
    data = _verified(path, _read(path, size), record["sha256"][WEIGHTS])
    try:
        weights = safetensors_load(data)
    except Exception as e:   # safetensors raises its own error types for bad contents
        raise CheckpointError(f"{path}: cannot read the weights ({type(e).__name__})") from None
    model = model_cls(config)
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit the saved model config ({first})") from None
    state = None
    if want_state:
        spath = folder / STATE
        blob = _verified(spath, _read(spath, 3 * nbytes + STATE_SLACK), record["sha256"][STATE])
        try:
            with warnings.catch_warnings():   # torch warns about a foreign pickle; the error below says enough
                warnings.simplefilter("ignore")
                state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        except Exception:   # never pass on torch's advice to turn the safe loader off
            raise CheckpointError(f"{spath}: the training state is damaged (it cannot be read as a vaekit "
                                  "training state)") from None
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
            raise CheckpointError(f"{spath}: the training state is damaged (expected a dict with an epoch)")
    return model, state, record


def saved_model_config(run_dir: str | Path):
    """The config of the current checkpoint's model, read from its weights' header: nothing is
    allocated, and a model past MAX_PARAMETERS or unlike its file is refused (``_sized_model``)."""
    run_dir = Path(run_dir)
    for attempt in range(2):   # a checkpoint replaced while it is read: resolve the pointer once more
        try:
            folder, _ = current(run_dir)
            path = folder / WEIGHTS
            meta, size = _header(path)
            return _sized_model(path, meta, size)[0]
        except FileNotFoundError as e:
            if attempt:
                raise CheckpointError(f"{e.filename}: checkpoint file is missing") from None


def damaged_state(run_dir: str | Path, record: dict, why: str) -> CheckpointError:
    """The error for a training state (state.pt of the checkpoint ``record`` names) that cannot be used."""
    return CheckpointError(f"{Path(run_dir) / record['path'] / STATE}: the training state is damaged ({why})")


def load(run_dir: str | Path, want_state: bool = False):
    """(model on the CPU, training state or None, pointer record) of the current checkpoint.

    A checkpoint replaced while it is read (its files pruned by a writer two checkpoints
    on) is resolved once more, so a reader always gets one complete checkpoint.
    """
    run_dir = Path(run_dir)
    try:
        return _load_once(run_dir, want_state)
    except FileNotFoundError:
        pass
    try:
        return _load_once(run_dir, want_state)
    except FileNotFoundError as e:
        raise CheckpointError(f"{e.filename}: checkpoint file is missing") from None
