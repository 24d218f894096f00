"""One real `vaekit lecture --quick` run (a subprocess, as a user types it), shared by the lecture tests."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_lecture(*args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "vaekit", "lecture", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
    proc.seconds = time.perf_counter() - start
    return proc


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """(report folder, the finished process, summary.json) of `vaekit lecture --quick --device cpu`."""
    out = tmp_path_factory.mktemp("lecture") / "report"
    proc = run_lecture("--quick", "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc, json.loads((out / "summary.json").read_text())
