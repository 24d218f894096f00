"""``build(plan, out)``: run the five sections and write ``out/summary.json`` and ``out/index.html``.

The report folder::

    out/.vaekit-lecture     marks the folder as a lecture report (written first)
    out/.lock               one writer at a time (``rundir.lock``)
    out/runs/<name>-<id>/   the runs the sections trained (``cache``), reused by the next call
    out/figures/*.png       the figures, named by content (``context.Context.figure``)
    out/measures/*.pt       measurements of the runs, kept for the next call (``context.Context.remember``)
    out/summary.json        every number the page shows, with units (written at the end)
    out/index.html          the page (written last, atomically: the old page stays whole until then)

summary.json: ``format``, ``vaekit_version``, ``torch_version``, ``created``, ``settings`` (the
plan, ``lang`` included: every text of the summary is in that language), ``seconds``, and ``sections``: one ``context.Section`` dict each (``id``, ``number``,
``title``, ``claim``, ``method``, ``figures``, ``tables``, ``numbers`` = {key: {value, unit,
label}}, ``conclusion``, ``runs``, ``seconds``).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from .. import atomic
from ..errors import DataError, RunDirError
from ..fileio import write_error
from ..jsonio import dumps
from ..rundir import check_path
from ..rundir.lock import RunLock
from ..threads import cpu_threads
from .plan import Plan, longest_first

FORMAT = "vaekit-lecture/1"
MARKER = ".vaekit-lecture"
SECTIONS = ("moon", "variance", "mixture", "bound", "problems")   # modules of lecture.sections, in order
MAX_WORKERS = 4    # training processes side by side (each on one thread)
# What the image sections need of the image data (the moon and the 2-D density are generated).
MIN_IMAGES = {"train": (100, "3 (mixtures of up to 50 components) and 5 (nearest training images)"),
              "val": (10, "4 (log p(x) and the bound per epoch)"),
              "test": (32, "2, 3 and 5 (test images, their codes and nearest-training distances)")}


def check_out(out) -> Path:
    """The report folder ``out``, made if absent; RunDirError if it holds something else or is unwritable."""
    path = check_path(out)
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path}: is a file; `out` must be a folder for the report")
    if path.is_dir() and not (path / MARKER).is_file():
        others = sorted(p.name for p in path.iterdir())
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise RunDirError(f"{path}: holds something other than a lecture report ({shown}); "
                              "choose an empty or new `out`")
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not (path / MARKER).is_file():
            atomic.write_text(path / MARKER, dumps({"format": FORMAT}) + "\n")
    except OSError as e:
        raise RunDirError(write_error(path / MARKER, e)) from None
    return path


def check_data(plan: Plan) -> None:
    """One-line errors, before anything trains, for image data the sections cannot use."""
    from ..data import load

    for split, (need, sections) in MIN_IMAGES.items():
        ds = load(plan.data, split, data_dir=plan.data_dir)
        if ds.continuous:
            raise DataError(f"{plan.data}: the lecture's image sections need images; got continuous data of "
                            f"shape {ds.image_shape}")
        if len(ds) < need:
            raise DataError(f"{plan.data}: the {split} split has {len(ds)} images; section(s) {sections} need "
                            f"at least {need}")


def build(plan: Plan, out, listener=None, command: list[str] | None = None,
          sections: tuple[str, ...] = SECTIONS, workers: int | None = None) -> dict:
    """Run every section (training what is not cached) and write the report; returns the summary.

    ``sections``: a subset of SECTIONS, in order (for developing one section; the command runs all).
    With all of them, every run of the plan is trained first, ``workers`` processes side by side
    (default: one per CPU core, at most MAX_WORKERS; ``RunCache.train_all``); a subset trains
    what it needs as it goes.

    ``listener`` hears progress (all optional): ``report_started(path)`` (once the folder is
    checked and locked), ``runs_trained(count, seconds, workers)``, ``section_started(number, title)``,
    ``section_finished(section)``, and the runs' ``run_started/run_step/run_finished``
    (``cache.RunCache``).
    """
    from ..device import resolve_device
    from ..i18n import _, language
    from ..viz.figure import language_fonts
    from .cache import RunCache
    from .context import FIGURES, MEASURES, Context
    from .page import write_page

    start = time.perf_counter()
    device = resolve_device(plan.device)
    workers = workers if workers is not None else min(MAX_WORKERS, os.cpu_count() or 1)
    plan.runs()            # every setting checked (ConfigError) before anything is written
    check_data(plan)
    path = check_out(out)
    lock = _lock(path)
    _tell(listener, "report_started", path)
    try:
        cache = RunCache(path / "runs", device, listener, command)
        ctx = Context(path, plan, cache, device)
        if tuple(sections) == SECTIONS:   # every run of the plan, side by side, before the sections measure
            started = time.perf_counter()
            trained = cache.train_all(longest_first(plan.runs()), workers=workers)
            _tell(listener, "runs_trained", trained, time.perf_counter() - started, workers)
        done = []
        # the sections' texts and figures in the page's language (the runs are the same in every language),
        # measured on one thread where the data are small
        with cpu_threads(measuring_threads(plan, device)), language(plan.lang), language_fonts(plan.lang):
            for name in sections:
                done.append(_section(ctx, name, listener))
        import torch

        from .. import __version__
        summary = {"format": FORMAT, "vaekit_version": __version__, "torch_version": torch.__version__,
                   "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   "settings": {**plan.settings(), "device": str(device)},
                   "seconds": time.perf_counter() - start, "sections": done}
        try:
            atomic.write_text(path / "summary.json", dumps(summary, indent=2) + "\n")
            write_page(summary, path)
        except OSError as e:
            raise RunDirError(write_error(path / "index.html", e)) from None
        _remove_unused_files(path / FIGURES, ctx.written)
        if tuple(sections) == SECTIONS:   # a call for some sections keeps the others' measurements
            _remove_unused_files(path / MEASURES, ctx.written, suffix=".pt")
    finally:
        lock.release()
    return summary


def measuring_threads(plan: Plan, device) -> int | None:
    """Threads for the sections' measurements: one on the CPU with the embedded data, whose models and
    tensors are small (``vaekit.threads``); PyTorch's default for MNIST-sized data or a GPU."""
    return 1 if device.type == "cpu" and not plan.large_images else None


def _section(ctx, name: str, listener) -> dict:
    """Run the section ``name`` (a module of lecture.sections); its part of the summary."""
    from ..i18n import _

    if name not in SECTIONS:
        raise ValueError(f"unknown section {name!r}; expected some of {', '.join(SECTIONS)}")
    module = importlib.import_module(f".sections.{name}", __package__)
    _tell(listener, "section_started", module.NUMBER, _(module.TITLE))
    section = ctx.finish(module.run(ctx))
    _tell(listener, "section_finished", section)
    return section.to_dict()


def read_summary(out) -> dict:
    """The summary.json of a report folder."""
    return json.loads((Path(out) / "summary.json").read_text(encoding="utf-8"))


def _remove_unused_files(folder: Path, used: set[str], suffix: str = ".png") -> None:
    """Files with ``suffix`` in ``folder`` (figures, or stored measurements) that earlier reports wrote and this
    one no longer uses."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if f"{folder.name}/{entry.name}" not in used and entry.suffix == suffix and entry.is_file():
            entry.unlink(missing_ok=True)


def _lock(path: Path) -> RunLock:
    try:
        return RunLock(path).acquire()
    except RunDirError as e:
        raise RunDirError(str(e).replace("writing this run", "writing this report")) from None
    except OSError as e:
        raise RunDirError(write_error(path / ".lock", e)) from None


def _tell(listener, event: str, *args) -> None:
    method = getattr(listener, event, None)
    if method is not None:
        method(*args)
