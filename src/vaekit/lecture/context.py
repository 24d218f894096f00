"""What a section works with: its runs, the device, and where its figures and numbers go.

A section module (``lecture.sections.*``) has ``ID``, ``TITLE``, ``CLAIM``, ``method()`` and
``run(ctx) -> Section``; it asks ``ctx.train(name)`` for the runs it needs (``plan``),
computes its numbers with ``vaekit.eval`` functions, draws with ``vaekit.viz`` and hands the
PNG bytes to ``ctx.figure``.  Figures are stored under their content's hash
(``figures/<name>.<hash>.png``): writing a new report never touches a file the current page
shows, so the page can switch atomically at the end (``report.build``).

Every text a section hands over (titles, captions, labels, units, conclusions) is already in the
report's language: sections translate with ``vaekit.i18n`` while ``report.build`` holds it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import atomic
from ..errors import RunDirError
from ..fileio import write_error
from ..i18n import _
from .cache import RunCache, Trained
from .plan import Plan, seeded

FIGURES = "figures"
MEASURES = "measures"     # measurements of the runs, kept for the next call (``Context.remember``)


@dataclass
class Section:
    """One section's part of ``summary.json`` (see ``report`` for the whole file)."""

    id: str
    number: int
    title: str
    claim: str
    method: str
    figures: list[dict] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    numbers: dict[str, dict] = field(default_factory=dict)
    conclusion: str = ""
    runs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    explore: list[dict] = field(default_factory=list)

    def number_of(self, key: str):
        return self.numbers[key]["value"]

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("id", "number", "title", "claim", "method", "figures", "tables",
                                              "numbers", "conclusion", "runs", "seconds", "explore")}


class Context:
    """Shared by the sections of one ``vaekit lecture`` call."""

    def __init__(self, out: Path, plan: Plan, cache: RunCache, device: torch.device):
        self.out, self.plan, self.cache, self.device = out, plan, cache, device
        self._runs = plan.runs()
        self._used: list[str] = []
        self.written: set[str] = set()   # figure files (relative paths) this report uses

    @property
    def seeds(self) -> range:
        """The seed indices of the headline measures: 0 (the plan's ``seed``) .. n_seeds - 1."""
        return range(self.plan.n_seeds)

    def train(self, name: str, seed: int = 0) -> Trained:
        """The finished run ``name`` of the plan (trained now unless cached), with the ``seed``-th seed
        (``plan.seeded``; only the plan's SEEDED runs have more than one); remembered for the
        section's ``runs`` list."""
        name = seeded(name, seed)
        if name not in self._runs:
            raise KeyError(f"unknown lecture run {name!r}; the plan has {', '.join(self._runs)}")
        trained = self.cache.get(name, self._runs[name])
        self._used.append(str(trained.path.relative_to(self.out)))
        return trained

    def explore(self, section: Section, what: str, *names: str) -> None:
        """Add to ``section`` the ``vaekit serve`` command that opens the first seed's runs ``names`` (one or
        two, on the same data) side by side in the explorer; ``what`` says what they are."""
        paths = [self.cache.path(name, self._runs[name]) for name in names]
        shown = [_as_typed(p) for p in paths]
        section.explore.append({"what": what, "command": " ".join(["vaekit", "serve", *map(shlex.quote, shown)])})

    def remember(self, tag: str, runs: list[tuple[str, int]], compute, **params):
        """``compute()``'s value (tensors, numbers, or dicts and lists of them), computed once per report folder:
        stored as ``measures/<tag>-<hash>.pt``, the hash of the runs' settings (``runs``: (name, seed index)
        pairs), ``params``, the plan's seed, the device type and the vaekit version, so a later call with the
        same inputs loads it instead (a damaged file is computed again).  ``tag``: a file-name stem."""
        from .. import __version__
        from .cache import run_id

        ids = [run_id(self._runs[seeded(name, s)]) for name, s in runs]
        for name, s in runs:    # the section used these runs, whether or not this call loads them
            self._used.append(str(self.cache.path(seeded(name, s), self._runs[seeded(name, s)]).relative_to(self.out)))
        key = json.dumps({"tag": tag, "runs": ids, "params": params, "seed": self.plan.seed,
                          "device": self.device.type, "vaekit": __version__}, sort_keys=True, default=str)
        rel = f"{MEASURES}/{tag}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"
        path = self.out / rel
        self.written.add(rel)
        if path.is_file():
            try:
                return torch.load(path, map_location=self.device, weights_only=True)
            except Exception:   # a damaged or foreign file: measure again and replace it
                pass
        value = compute()
        buffer = io.BytesIO()
        torch.save(value, buffer)
        try:
            path.parent.mkdir(exist_ok=True)
            atomic.write_bytes(path, buffer.getvalue())
        except OSError as e:
            raise RunDirError(write_error(path, e)) from None
        return value

    def generator(self, offset: int = 0) -> torch.Generator:
        """A fresh generator on the lecture's device, seeded from ``--seed`` (+ ``offset``)."""
        return torch.Generator(device=self.device).manual_seed(self.plan.seed + offset)

    def start(self, module) -> Section:
        """A new, empty section from a section module's ``ID``, ``NUMBER``, ``TITLE``, ``CLAIM`` and ``method()``,
        in the current language."""
        self._used = []
        self._start = time.perf_counter()
        return Section(id=module.ID, number=module.NUMBER, title=_(module.TITLE), claim=_(module.CLAIM),
                       method=module.method())

    def finish(self, section: Section) -> Section:
        section.runs = list(dict.fromkeys(self._used))
        section.seconds = time.perf_counter() - self._start
        return section

    def figure(self, section: Section, name: str, png: bytes, caption: str, alt: str,
               width: int | None = None) -> None:
        """Store a figure (PNG bytes) and add it to ``section``; ``width``: display width, CSS px."""
        digest = hashlib.sha256(png).hexdigest()[:10]
        rel = f"{FIGURES}/{name}.{digest}.png"
        path = self.out / rel
        try:
            path.parent.mkdir(exist_ok=True)
            if not path.exists():
                atomic.write_bytes(path, png)
        except OSError as e:
            raise RunDirError(write_error(path, e)) from None
        self.written.add(rel)
        entry = {"file": rel, "caption": caption, "alt": alt}
        if width is not None:
            entry["width"] = width
        section.figures.append(entry)


def _as_typed(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (as a user would type it), else absolute."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except (OSError, ValueError):
        return str(path)


def number(section: Section, key: str, value, unit: str, label: str) -> None:
    """Record a measured number (a float, int or None) with its unit and what it is."""
    if isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = None   # strict JSON; the page shows "–"
    section.numbers[key] = {"value": value, "unit": unit, "label": label}


def seeded_number(section: Section, key: str, values, unit: str, label: str) -> None:
    """Record a measure taken once per seed: ``value`` is their mean, ``seeds`` the values in seed
    order and ``sd`` their sample standard deviation (None for one seed)."""
    values = [v.item() if isinstance(v, torch.Tensor) else v for v in values]
    values = [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
    known = [float(v) for v in values if v is not None]
    mean = sum(known) / len(known) if known else None
    sd = math.sqrt(sum((v - mean) ** 2 for v in known) / (len(known) - 1)) if len(known) > 1 else None
    section.numbers[key] = {"value": mean, "unit": unit, "label": label, "seeds": values, "sd": sd}


def table(section: Section, caption: str, columns: list[str], rows: list[list]) -> None:
    section.tables.append({"caption": caption, "columns": list(columns), "rows": [list(r) for r in rows]})
