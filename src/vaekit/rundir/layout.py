"""The names of a run directory's files, and which of them vaekit wrote.

    RUN_DIR/
        config.json                 what the run is: kind, model, fit settings, data, device, versions, command
        metrics.jsonl               one JSON object per epoch (EM iteration for a mixture), strict JSON
        checkpoint.json             the pointer: which checkpoint is current, with sha256 of its files
        checkpoints/epoch-000012/   model.safetensors (weights + model config), state.pt (optimizer, RNG, epoch)
        *.png                       figures (samples, reconstructions, interpolations, curves; means for a mixture)
        .lock                       held (flock) by the one process writing the run

Every kind of run is written in one order: config.json, then metrics and checkpoint folders,
then the pointer last.  A folder with config.json and no pointer is a half-made run (killed
before its first checkpoint): it can be resumed or replaced.  vaekit deletes only files and
folders it recognises as its own, by these names.
"""

from __future__ import annotations

import re

CONFIG = "config.json"
METRICS = "metrics.jsonl"
POINTER = "checkpoint.json"
CHECKPOINTS = "checkpoints"
WEIGHTS = "model.safetensors"
STATE = "state.pt"
LOCK = ".lock"
FIGURES = ("samples.png", "reconstructions.png", "interpolations.png", "curves.png", "means.png")

FORMAT = "vaekit-run/1"          # config.json's "format": marks a folder as a vaekit run
KINDS = ("vae", "ae", "gmm")

CHECKPOINT_NAME = re.compile(r"epoch-\d{6}")
TEMP_NAME = re.compile(r"\.(epoch-\d{6}|checkpoint\.json|config\.json|metrics\.jsonl|[a-z]+\.png)\.[^/]*\.tmp")

# Size limits for reading run files (anything larger is damaged or hostile).
CONFIG_LIMIT = 1 << 20
POINTER_LIMIT = 1 << 16
METRICS_LIMIT = 256 << 20


def checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch:06d}"


def is_ours(name: str) -> bool:
    """Whether a top-level entry of a run directory is one vaekit writes."""
    return (name in (CONFIG, METRICS, POINTER, CHECKPOINTS, LOCK) or name in FIGURES
            or TEMP_NAME.fullmatch(name) is not None)
