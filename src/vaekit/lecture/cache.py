"""The lecture's runs, cached: ``RunCache(root).get(name, cfg)`` trains once, then reuses.

Each run is an ordinary vaekit run directory, ``root/<name>-<id>``, where ``id`` hashes the
run's complete settings: a second ``vaekit lecture`` finds the finished run and loads it; a
changed setting gives a new id, so only the runs it touches are trained again (the old ones
stay, and are found again when the setting changes back).  A run that was interrupted
continues from its last checkpoint (``fit(..., resume=True)``); a half-made one (killed
before its first checkpoint) is started over.  ``vaekit eval``, ``vaekit.load`` and
``vaekit serve`` read these runs like any other.

``RunCache.train_all(runs, workers)`` trains the unfinished runs of a list side by side, one
worker process per CPU core, each on one thread (``vaekit.threads``: the lecture's models are
too small to split over cores, and parallel runs keep every core busy); the sections then find
them finished.  Runs are independent and seeded, so which worker trains one does not change it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import RunDirError
from ..rundir import current, load_model, read_config, read_metrics, status
from ..train.config import GMMFitConfig, TrainConfig

FORGET = ("device", "threads")   # settings that do not change what a run is (a run trained on cuda serves on cpu)


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
    """8 hex digits naming the settings that differ from their defaults (``_distinct``; their JSON,
    sorted) and the vaekit version, so a new release (whose models or generated data may differ)
    trains afresh, while a new setting, left at its default, changes no run's name."""
    from .. import __version__

    text = json.dumps({"kind": type(cfg).__name__, "settings": _distinct(cfg.to_dict(), type(cfg)),
                       "vaekit": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _json(value):
    return json.loads(json.dumps(value, default=list))


def _distinct(settings: dict, kind: type) -> dict:
    """The settings (a config's, or a run's config.json's) that are not at their defaults, as JSON
    values, ``FORGET`` left out: what makes a run of ``kind`` what it is.  A setting the saved
    config lacks is at its default (it came with a later version); one ``kind`` does not know
    is kept, so that it never matches."""
    defaults = {f.name: _json(f.default) for f in fields(kind)}
    return {k: v for k, v in _json(settings).items()
            if k not in FORGET and (k not in defaults or v != defaults[k])}


def _same_settings(saved: dict, cfg) -> bool:
    return _distinct(saved, type(cfg)) == _distinct(cfg.to_dict(), type(cfg))


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
            import torch

            self.root.mkdir(parents=True, exist_ok=True)
            with torch.enable_grad():    # a section may ask for a run inside its own no_grad block
                if gmm:
                    self._fit_gmm(name, cfg, path)
                else:
                    self._fit(name, cfg, path, resume=state in ("run", "half"))
        self._tell("run_finished", name)
        model = load_model(path, self.device)
        history = read_metrics(path, key="iteration" if gmm else "epoch")
        return Trained(name, path, cfg, model, history, cached=done)

    def finished(self, name: str, cfg: TrainConfig | GMMFitConfig) -> bool:
        """Whether the run ``name`` with settings ``cfg`` is there and complete (``get`` would train nothing)."""
        path = self.path(name, cfg)
        state = status(path)
        if state != "run" or not _same_settings(read_config(path)["fit"], cfg):
            return False
        return isinstance(cfg, GMMFitConfig) or current(path)[1]["epoch"] >= cfg.epochs

    def train_all(self, runs: dict[str, TrainConfig | GMMFitConfig], workers: int) -> int:
        """Train every unfinished run of ``runs`` ({name: settings}), ``workers`` processes at a time
        (on the CPU; on a GPU, or with one worker or one run, here, one after another).  Returns how
        many were trained.  The listener hears ``run_started`` and ``run_finished`` for each; an error
        in any run is raised here once the runs in progress end (those not started are cancelled; every
        run keeps its last checkpoint)."""
        todo = [(name, cfg) for name, cfg in runs.items() if not self.finished(name, cfg)]
        for name, cfg in todo:
            if status(self.path(name, cfg)) == "foreign":
                self.get(name, cfg)        # raises the one-line error about the foreign folder
        if workers <= 1 or len(todo) <= 1 or self.device.type != "cpu":
            for name, cfg in todo:
                self.get(name, cfg)
            return len(todo)
        self.root.mkdir(parents=True, exist_ok=True)
        jobs = [(name, cfg, str(self.path(name, cfg)), status(self.path(name, cfg)) in ("run", "half"),
                 self.command) for name, cfg in todo]
        for name, cfg in todo:
            self._tell("run_started", name, cfg.max_iter if isinstance(cfg, GMMFitConfig) else cfg.epochs, False)
        # A worker that dies (it could not start, or was killed) breaks the pool at once: BrokenProcessPool,
        # never a hang.  On an error or Ctrl-C the runs not started are cancelled; the running ones end too
        # (Ctrl-C reaches the workers, which exit at once), each keeping its last checkpoint.
        pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_start)
        try:
            for done in as_completed([pool.submit(_train_one, job) for job in jobs]):
                self._tell("run_finished", done.result())
        except BrokenProcessPool:
            raise RunDirError(f"{self.root}: a training worker process died (killed, or out of memory); "
                              "run vaekit lecture again to continue from the last checkpoints") from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return len(todo)

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


def _worker_start() -> None:
    """A training worker: one thread; a Ctrl-C (which the terminal sends to the parent and its workers
    alike) ends it at once and quietly: its run keeps its last checkpoint, and the parent reports."""
    import torch

    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    torch.set_num_threads(1)


def _train_one(job) -> str:
    """Train one run in a worker process (``RunCache.train_all``); returns its name."""
    name, cfg, path, resume, command = job
    if isinstance(cfg, GMMFitConfig):
        from ..train.gmm_run import fit_gmm

        fit_gmm(cfg, path, command=command)
    else:
        from ..train.run import fit

        fit(cfg, path, resume=resume, command=command)
    return name
