"""Time and memory of `vaekit lecture`, from an empty report folder and again with everything cached.

For each mode (default and --quick, and --data mnist with --mnist-dir), runs the real command
twice in a fresh folder: the first call trains every run, the second reuses them (only the
evaluation and the figures are computed again).  Prints the wall time of each call, the
seconds per section (from summary.json), and the peak resident memory of the process
(its own, ``os.wait4``'s ru_maxrss) and of its whole process tree (the lecture trains in worker
processes: their resident memory summed, sampled every 0.2 s).  Targets on a 2-core CPU: default <= 5 min, --quick <= 90 s,
peak RSS <= 2 GB, a cached second call <= 15 s.  There is no "usual alternative" to run side by
side here: no other toolkit runs these experiments.

    python bench/lecture_time.py [--modes default quick] [--device cpu] [--mnist-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import TreePeak

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"default": 300, "quick": 90}


def run(args: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS of the process tree in MB, exit code, stderr tail) of `python -m vaekit lecture ARGS`."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vaekit", "lecture", *args], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TreePeak(proc.pid) as peak:
        stderr = proc.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, max(peak.mb, usage.ru_maxrss / 1024), proc.returncode, stderr[-500:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--modes", nargs="+", default=["default", "quick"], choices=["default", "quick", "mnist"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--mnist-dir", help="folder of the MNIST IDX files (for --modes mnist)")
    a = p.parse_args()
    rows = []
    for mode in a.modes:
        folder = Path(tempfile.mkdtemp(prefix=f"lecture-{mode}-"))
        out = folder / "report"
        args = ["--out", str(out), "--device", a.device]
        if mode == "quick":
            args.append("--quick")
        if mode == "mnist":
            if not a.mnist_dir:
                p.error("--modes mnist needs --mnist-dir")
            args += ["--data", "mnist", "--data-dir", a.mnist_dir]
        first = run(args)
        if first[2] != 0:
            print(f"{mode}: failed (exit {first[2]}): {first[3]}")
            return 1
        sections = json.loads((out / "summary.json").read_text())["sections"]
        second = run(args)
        rows.append((mode, first, second, sections))
        print(f"\n== vaekit lecture ({mode}) ==")
        print(f"first call (trains everything) {first[0]:7.1f} s   peak RSS {first[1]:6.0f} MB"
              + (f"   target <= {TARGETS[mode]} s" if mode in TARGETS else ""))
        print(f"second call (all cached)       {second[0]:7.1f} s   peak RSS {second[1]:6.0f} MB   target <= 15 s")
        print("seconds per section (first call):")
        for s in sections:
            print(f"  {s['number']}. {s['title']:<48} {s['seconds']:6.1f} s  ({len(s['runs'])} runs)")
        shutil.rmtree(folder, ignore_errors=True)
    print("\nmode      first s   second s   peak RSS MB")
    for mode, first, second, _ in rows:
        print(f"{mode:<8} {first[0]:8.1f} {second[0]:10.1f} {max(first[1], second[1]):12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
