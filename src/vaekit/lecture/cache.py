"""The lecture's runs, cached: ``RunCache(root).get(name, cfg)`` trains once, then reuses.

Each run is an ordinary vaekit run directory, ``root/<name>-<id>``, where ``id`` hashes the
run's complete settings: a second ``vaekit lecture`` finds the finished run and loads it; a
changed setting gives a new id, so only the runs it touches are trained again (the old ones
stay, and are found again when the setting changes back).  A run that was interrupted
continues from its last checkpoint (``fit(..., resume=True)``); a half-made one (killed
before its first checkpoint) is started over.  ``vaekit eval``, ``vaekit.load`` and
``vaekit serve`` read these runs like any other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunDirError
from ..rundir import current, load_model, read_config, read_metrics, status
from ..train.config import GMMFitConfig, TrainConfig

FORGET = ("device",)   # settings that do not change what a run is (a run trained on cuda serves on cpu)


@dataclass
class Trained:
    """A finished run: its name, directory, settings, the model (eval mode, on the lecture's
    device) and its history (``fit``'s epoch records, or ``fit_gmm``'s EM iterations)."""

    name: str
    path: Path
    config: TrainConfig | GMMFitConfig
    model: object
    history: list[dict]
    cached: bool   # True when this call trained nothing


def run_id(cfg: TrainConfig | GMMFitConfig) -> str:
    """8 hex digits naming the settings (their JSON, sorted; ``device`` left out) and the vaekit
    version, so a new release (whose models or generated data may differ) trains afresh."""
    from .. import __version__

    settings = {k: v for k, v in cfg.to_dict().items() if k not in FORGET}
    text = json.dumps({"kind": type(cfg).__name__, "settings": settings, "vaekit": __version__},
                      sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _same_settings(saved: dict, cfg) -> bool:
    want = {k: v for k, v in cfg.to_dict().items() if k not in FORGET}
    got = {k: v for k, v in saved.items() if k not in FORGET}
    return json.loads(json.dumps(want, default=list)) == json.loads(json.dumps(got, default=list))


class RunCache:
    """Runs under ``root`` (made when the first run is trained).  ``listener`` hears progress:
    ``run_started(name, total, cached)``, ``run_step(name, done)`` and ``run_finished(name)``."""

    def __init__(self, root: str | Path, device, listener=None, command: list[str] | None = None):
        self.root = Path(root)
        self.device = device
        self.listener = listener
        self.command = command

    def path(self, name: str, cfg) -> Path:
        return self.root / f"{name}-{run_id(cfg)}"

    def get(self, name: str, cfg: TrainConfig | GMMFitConfig) -> Trained:
        """The finished run ``name`` with settings ``cfg``: loaded if it is there, else trained."""
        path = self.path(name, cfg)
        gmm = isinstance(cfg, GMMFitConfig)
        state = status(path)
        if state == "foreign":
            raise RunDirError(f"{path}: is not a vaekit run (the lecture keeps its runs here); move it away")
        if state == "run" and not _same_settings(read_config(path)["fit"], cfg):
            raise RunDirError(f"{path}: holds a run with other settings than its name says; move it away")
        done = state == "run" and (gmm or current(path)[1]["epoch"] >= cfg.epochs)
        total = cfg.max_iter if gmm else cfg.epochs
        self._tell("run_started", name, total, done)
        if not done:
            self.root.mkdir(parents=True, exist_ok=True)
            if gmm:
                self._fit_gmm(name, cfg, path)
            else:
                self._fit(name, cfg, path, resume=state in ("run", "half"))
        self._tell("run_finished", name)
        model = load_model(path, self.device)
        history = read_metrics(path, key="iteration" if gmm else "epoch")
        return Trained(name, path, cfg, model, history, cached=done)

    def _fit(self, name, cfg: TrainConfig, path: Path, resume: bool) -> None:
        from ..train.run import fit

        fit(cfg, path, resume=resume, command=self.command,
            on_epoch=lambda record: self._tell("run_step", name, record["epoch"]))

    def _fit_gmm(self, name, cfg: GMMFitConfig, path: Path) -> None:
        from ..train.gmm_run import fit_gmm

        fit_gmm(cfg, path, command=self.command,
                on_iteration=lambda record: self._tell("run_step", name, record["iteration"]))

    def _tell(self, event: str, *args) -> None:
        method = getattr(self.listener, event, None)
        if method is not None:
            method(*args)
