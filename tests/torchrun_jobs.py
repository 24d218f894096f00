"""Real torchrun jobs for the tests of training on several processes: how they are started, waited
for and judged (tests/train/test_distributed.py on loopback, test_two_machines.py across two
network namespaces).

Every job has a hard timeout.  Success is judged by what rank 0 wrote (the run directory, its
JSON) and by torchrun's exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

JOB_TIMEOUT_S = 180
# gloo on loopback, one thread per process, and a collective waits at most 60 s for a dead peer
ENV = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "VAEKIT_DIST_TIMEOUT": "60"}
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
STANDALONE = [*TORCHRUN, "--standalone", "--nproc-per-node"]


def vaekit_cli(*args, procs: int = 1, timeout: float = JOB_TIMEOUT_S) -> subprocess.CompletedProcess:
    """``vaekit ARGS`` in one process, or under ``torchrun --standalone --nproc-per-node procs``."""
    launcher = [sys.executable, "-m", "vaekit"] if procs == 1 else [*STANDALONE, str(procs), "-m", "vaekit"]
    return subprocess.run([*launcher, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout)


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def timeless(records: list[dict]) -> list[dict]:
    """Metrics records without their timings (which differ from run to run)."""
    return [{k: v for k, v in r.items() if k not in ("seconds", "val_seconds", "elapsed")} for r in records]


def wait_for_epochs(jobs: list[subprocess.Popen], run: Path, epochs: int, timeout: float = 120) -> None:
    """Return once ``run``'s metrics.jsonl holds ``epochs`` epochs (each checkpointed) while every job runs."""
    deadline = time.monotonic() + timeout
    while not ((run / "metrics.jsonl").exists() and len(metrics(run)) >= epochs):
        assert all(job.poll() is None for job in jobs) and time.monotonic() < deadline, \
            f"the job ended or stalled before epoch {epochs}"
        time.sleep(0.1)


def worker_pids(torchrun_pid: int) -> dict[int, int]:
    """rank -> pid of torchrun's workers (read from their environment)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) != torchrun_pid:
            continue
        for item in env:
            if item.startswith(b"RANK="):
                found[int(item[5:])] = int(proc.name)
    return found
