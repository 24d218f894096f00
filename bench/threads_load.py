"""The lecture and a tiny model's training, alone and beside a 2-thread CPU hog: this version
against an earlier one (the usual alternative: PyTorch's own thread count, one thread per core).

PyTorch splits every CPU operation over one thread per core.  A small model's operations are
too short to split: its threads wait for each other, and when another process holds a core the
waiting thread spins.  vaekit now trains small models on one thread (``vaekit.threads``,
``--threads``) and the lecture trains its runs side by side in worker processes.  This script
measures the effect as a user meets it:

* ``vaekit lecture --quick`` from an empty folder (everything trained), with this version's
  code and with the ``--baseline`` revision's (checked out into a temporary folder), each
  alone and beside the hog;
* today's plan of ``vaekit lecture --quick`` trained the baseline's way, in the process itself, one run after
  another, each on PyTorch's threads (one per core; ``--threads 2`` here), beside the way this version
  trains it (worker processes of one thread each): the same runs, so "alone no slower" compares like
  with like (the baseline's lecture trained fewer, smaller runs);
* ``vaekit train`` of a tiny model (digits, 64-256-8, 30 epochs), with ``--threads 0`` (the
  rule: one thread here) and ``--threads 2`` (what PyTorch picks on two cores, as before),
  each alone and beside the hog.

The hog is a separate process started and stopped by this script: a loop of 1024 × 1024
float32 matrix products on 2 threads (``torch.set_num_threads(2)``), like a user's other
work.  Medians of ``--repeats`` runs (train) and the wall time of each lecture call; the
ratios are loaded / alone.  Targets (issue #23): under load at most 2× the time alone, and
alone no slower than the baseline.  Run it with nothing else running.

    python bench/threads_load.py [--baseline 99f344e] [--repeats 3] [--skip lecture|train|baseline]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOG = ("import torch\n"
       "torch.set_num_threads(2)\n"
       "a = torch.randn(1024, 1024)\n"
       "while True:\n"
       "    a = (a @ a).clamp_(-1, 1)\n")
# The lecture --quick of this version through ``report.build``, as the command runs it ("workers"), or the
# baseline's way ("one-process"): workers=1 trains every run in this process, one after another, and each
# run's threads=2 is PyTorch's own choice on two cores (``threads`` does not change a run's cache id).
LECTURE_BUILD = ("import dataclasses, sys\n"
                 "from vaekit.lecture import plan, report\n"
                 "from vaekit.train.config import TrainConfig\n"
                 "runs, how = plan.Plan.runs, sys.argv[2]\n"
                 "if how == 'one-process':\n"
                 "    plan.Plan.runs = lambda self: {name: dataclasses.replace(cfg, threads=2)\n"
                 "                                   if isinstance(cfg, TrainConfig) else cfg\n"
                 "                                   for name, cfg in runs(self).items()}\n"
                 "report.build(plan.Plan(quick=True, device='cpu'), sys.argv[1],\n"
                 "             workers=1 if how == 'one-process' else None)\n")
TINY = ["train", "--data", "digits", "--hidden", "256", "--latent", "8", "--epochs", "30", "--log-px-every", "0",
        "--device", "cpu"]


@contextmanager
def hog(on: bool):
    """A 2-thread CPU hog running within the block (nothing when ``on`` is False)."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", HOG], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)   # let it start (import torch) before the timed command
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def timed(argv: list[str], src: Path, cwd: Path, python: tuple[str, ...] = ("-m", "vaekit")) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) of `python -m vaekit ARGV` (or `python PYTHON ARGV`) with
    vaekit from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *python, *argv], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"`vaekit {' '.join(argv)}` failed (exit {proc.returncode}): {proc.stderr[-800:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def _or_dash(x: float, width: int, digits: int) -> str:
    """x in a column, or a dash where the case was not measured (NaN)."""
    return f"{'-':>{width}}" if x != x else f"{x:{width}.{digits}f}"


def checkout(rev: str) -> Path:
    """The ``src`` folder of revision ``rev``, exported into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"vaekit-{rev}-"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="99f344e", help="the earlier revision (default 99f344e: before the change)")
    p.add_argument("--repeats", type=int, default=3, help="training runs per case (median; default 3)")
    p.add_argument("--skip", choices=("lecture", "train", "baseline"), action="append", default=[],
                   help="leave out a group of cases (baseline: every case of the --baseline revision)")
    a = p.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; baseline {a.baseline}")
    work = Path(tempfile.mkdtemp(prefix="threads-load-"))
    old_src = checkout(a.baseline)
    rows = []
    try:
        if "train" not in a.skip:
            cases = [("train, --threads 0 (one here)", REPO / "src", ["--threads", "0"]),
                     ("train, --threads 2 (PyTorch's)", REPO / "src", ["--threads", "2"]),
                     (f"train, {a.baseline}", old_src, [])]
            for label, src, extra in cases[:2] if "baseline" in a.skip else cases:
                times = {}
                for loaded in (False, True):
                    with hog(loaded):
                        runs = []
                        for i in range(a.repeats):
                            out = work / f"t{len(rows)}-{loaded}-{i}"
                            runs.append(timed([*TINY, *extra, "--out", str(out)], src, work))
                    times[loaded] = (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
                rows.append((label, times))
                print(f"{label:<34} alone {times[False][0]:6.1f} s  loaded {times[True][0]:6.1f} s  "
                      f"ratio {times[True][0] / times[False][0]:4.2f}", flush=True)
        if "lecture" not in a.skip:
            build = ("-c", LECTURE_BUILD)
            # (the one-process way beside the hog is left out: the baseline's took 17x its time alone)
            cases = [("lecture --quick, this version", REPO / "src", (), ["lecture", "--quick", "--device", "cpu"],
                      (False, True)),
                     ("  its runs, worker processes", REPO / "src", build, ["workers"], (False,)),
                     ("  its runs, one process", REPO / "src", build, ["one-process"], (False,)),
                     (f"lecture --quick, {a.baseline}", old_src, (), ["lecture", "--quick", "--device", "cpu"],
                      (False, True))]
            for label, src, python, argv, conditions in cases[:3] if "baseline" in a.skip else cases:
                times = {True: (float("nan"), float("nan"))}
                for loaded in conditions:
                    out = work / f"l{len(rows)}-{loaded}"
                    with hog(loaded):
                        times[loaded] = (timed([*argv, "--out", str(out)], src, work) if not python else
                                         timed([str(out), *argv], src, work, python))
                    shutil.rmtree(out, ignore_errors=True)
                rows.append((label, times))
                print(f"{label:<34} alone {times[False][0]:6.1f} s  loaded {_or_dash(times[True][0], 6, 1)} s  "
                      f"ratio {_or_dash(times[True][0] / times[False][0], 4, 2)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(old_src.parent, ignore_errors=True)
    print("\ncase                                alone s  CPU s   loaded s  CPU s   loaded/alone")
    for label, t in rows:
        print(f"{label:<34} {t[False][0]:8.1f} {t[False][1]:6.1f} {_or_dash(t[True][0], 9, 1)} "
              f"{_or_dash(t[True][1], 6, 1)} {_or_dash(t[True][0] / t[False][0], 10, 2)}")
    by = dict(rows)
    new, old = "lecture --quick, this version", f"lecture --quick, {a.baseline}"
    if new in by and old in by:
        print(f"\nlecture alone: this version / baseline = {by[new][False][0] / by[old][False][0]:.2f}"
              f"   (target <= 1); loaded / alone = {by[new][True][0] / by[new][False][0]:.2f} (target <= 2)")
    workers, one = by.get("  its runs, worker processes"), by.get("  its runs, one process")
    if workers and one:
        print(f"\nthe same runs alone: worker processes / one process = {workers[False][0] / one[False][0]:.2f}"
              f"   (target <= 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
