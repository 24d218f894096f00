"""One real `vaekit lecture --quick` run (a subprocess, as a user types it), shared by the lecture tests,
and the same report in Traditional Chinese (`--lang zh-TW` into a copy of it: its runs are reused)."""

import contextlib
import io
import json
import os
import shutil
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


@pytest.fixture(scope="session")
def quick_report_zh(quick_report, tmp_path_factory):
    """`vaekit lecture --quick --device cpu --lang zh-TW` into a copy of the quick report (every run reused,
    nothing trains), run in this process so that the figures' words can be read: a dict with ``out``,
    ``summary``, ``stdout``, ``stderr`` and ``figure_texts`` (per figure saved, its visible texts)."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from vaekit.cli.main import main

    out = tmp_path_factory.mktemp("lecture-zh") / "report"
    shutil.copytree(quick_report[0], out)
    figure_texts = []
    savefig = Figure.savefig

    def recording_savefig(fig, *args, **kwargs):
        result = savefig(fig, *args, **kwargs)          # drawn: every tick label has its text now
        figure_texts.append([t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()])
        return result

    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        mp.setattr(Figure, "savefig", recording_savefig)
        mp.setenv("VAEKIT_KEEP_FREED_MEMORY", "0")      # the CLI's process-wide malloc setting: not this one's
        code = main(["lecture", "--quick", "--device", "cpu", "--lang", "zh-TW", "--out", str(out)])
    assert code == 0, stderr.getvalue()[-3000:]
    return {"out": out, "summary": json.loads((out / "summary.json").read_text()), "stdout": stdout.getvalue(),
            "stderr": stderr.getvalue(), "figure_texts": figure_texts}
