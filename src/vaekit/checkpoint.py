"""The one checkpoint module: save and load models and training state, atomically.

Layout of a run directory's checkpoint::

    checkpoint.json                    which checkpoint is current, with sha256 of its files
    checkpoints/epoch-000012/
        model.safetensors              weights (+ the model config and vaekit version as metadata)
        state.pt                       optimizer, RNG and epoch state; torch.load(weights_only=True)

A new checkpoint is written into a temporary folder, fsynced and renamed into place;
only then is ``checkpoint.json`` atomically replaced to point at it, and older folders
removed.  Killing the process at any moment therefore leaves the previous checkpoint
intact and ``checkpoint.json`` always names a complete one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import __version__, atomic
from .errors import CheckpointError
from .models import AutoEncoder, ModelConfig

POINTER = "checkpoint.json"
FOLDER = "checkpoints"
WEIGHTS = "model.safetensors"
STATE = "state.pt"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _model_types() -> dict:
    """Saved model type name -> (config class, model class); each config has to_dict/from_dict."""
    from .models.gmm import GaussianMixture, GMMConfig

    return {"autoencoder": (ModelConfig, AutoEncoder), "gmm": (GMMConfig, GaussianMixture)}


def _type_name(model) -> str:
    if isinstance(model, AutoEncoder):
        return "autoencoder"
    for name, (_, cls) in _model_types().items():
        if isinstance(model, cls):
            return name
    raise TypeError(f"cannot checkpoint a {type(model).__name__}")


def save(run_dir: str | Path, model, state: dict, epoch: int) -> Path:
    """Write weights and training ``state`` (tensors, numbers, strings, lists, dicts) for ``epoch``.

    ``model`` is an ``AutoEncoder`` or a ``GaussianMixture``: an ``nn.Module`` with a ``config``.
    """
    run_dir = Path(run_dir)
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{epoch:06d}"
    tmp = folder / f".{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    weights = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    meta = {"model_type": _type_name(model), "model_config": json.dumps(model.config.to_dict()),
            "vaekit_version": __version__, "epoch": str(epoch)}
    save_file(weights, tmp / WEIGHTS, metadata=meta)
    torch.save(state, tmp / STATE)
    for f in (WEIGHTS, STATE):
        _fsync_file(tmp / f)
    final = folder / name
    if final.exists():  # a previous attempt at this epoch that never became current
        shutil.rmtree(final)
    os.replace(tmp, final)
    atomic.fsync_dir(folder)
    atomic.write_json(run_dir / POINTER, {
        "epoch": epoch,
        "path": f"{FOLDER}/{name}",
        "sha256": {f: _sha256(final / f) for f in (WEIGHTS, STATE)},
        "vaekit_version": __version__,
    })
    for old in folder.iterdir():  # only now is the previous checkpoint no longer needed
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return final


def read_config(run_dir: str | Path) -> dict:
    """The run's ``config.json`` (every setting, versions, command line), as written at its start."""
    path = Path(run_dir) / "config.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; {run_dir} is not a vaekit run directory") from None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: corrupted or unreadable ({e})") from None


def current(run_dir: str | Path, verify: bool = True) -> tuple[Path, dict]:
    """The current checkpoint folder and its pointer record; CheckpointError if missing or corrupted."""
    run_dir = Path(run_dir)
    pointer = run_dir / POINTER
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: no such run directory")
    if not pointer.is_file():
        raise CheckpointError(f"{run_dir}: no checkpoint found (expected {POINTER}); is this a vaekit run directory?")
    try:
        record = json.loads(pointer.read_text())
        folder = run_dir / record["path"]
        digests = record["sha256"]
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{pointer}: corrupted checkpoint pointer ({e})") from None
    for f in (WEIGHTS, STATE):
        path = folder / f
        if not path.is_file():
            raise CheckpointError(f"{path}: checkpoint file is missing")
        if verify and _sha256(path) != digests.get(f):
            raise CheckpointError(f"{path}: checkpoint is corrupted (sha256 does not match {POINTER})")
    return folder, record


def load_model(run_dir: str | Path, device: str | torch.device = "cpu"):
    """The trained model of a run (an ``AutoEncoder`` or ``GaussianMixture``), in eval mode on ``device``."""
    folder, _ = current(run_dir)
    path = folder / WEIGHTS
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        kind = meta.get("model_type", "autoencoder")
        config_cls, model_cls = (ModelConfig, AutoEncoder) if kind == "autoencoder" else _model_types()[kind]
        config = config_cls.from_dict(json.loads(meta["model_config"]))
        weights = load_file(path)
    except CheckpointError:
        raise
    except Exception as e:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{path}: cannot read the weights ({type(e).__name__}: {e})") from None
    model = model_cls(config)
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit the saved model config ({first})") from None
    return model.to(device).eval()


def load_state(run_dir: str | Path) -> dict:
    """The training state saved with the current checkpoint (loaded with weights_only=True)."""
    folder, _ = current(run_dir)
    path = folder / STATE
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: cannot read the training state ({type(e).__name__}: {e})") from None
