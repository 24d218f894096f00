"""Training and evaluation on several processes: real torchrun jobs, 2 ranks, gloo on loopback.

Every job has a hard timeout and they run one after the other.  Success is judged by what rank 0
wrote (the run directory, its JSON) and by torchrun's exit status.

The tolerance of the 1-vs-2 comparisons: on the default path (the hand-written step) two
processes draw the same permutation and the same noise as one (``train.loop.train_epoch``), so
the runs differ only by the order of floating-point sums in the gradients' all-reduce.  Measured
here: after 30 steps the weights differ by at most 6e-8 and the validation ELBOs agree to 1e-12
nats.  Rounding differences can grow with the number of steps (training is chaotic over long
runs), so the tests allow 1e-3 nats, five orders of magnitude above what a few epochs produce
and far below what one wrong example, batch or noise draw would change (~0.1 nats or more).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from torchrun_jobs import ENV, JOB_TIMEOUT_S, STANDALONE, metrics, ok, timeless, vaekit_cli, wait_for_epochs, worker_pids

import vaekit

TOLERANCE_NATS = 1e-3
BASE = ["--data", "digits", "--latent", "4", "--hidden", "64", "--seed", "3"]
TRAIN = [*BASE, "--log-px-every", "1", "--log-px-k", "20"]
WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same 3-epoch run on 1 process and on 2 (global batch 629: 1,259 digits make batches of
    629, 629 and 1, so ranks take 315 and 314 rows, and in the last batch one rank has none)."""
    root = tmp_path_factory.mktemp("ddp")
    for procs in (1, 2):
        ok(vaekit_cli("train", *TRAIN, "--epochs", "3", "--batch-size", "629", "--out", root / f"p{procs}",
                      procs=procs))
    return root


def test_two_processes_train_the_one_process_run(runs):
    one, two = metrics(runs / "p1"), metrics(runs / "p2")
    assert [r["epoch"] for r in two] == [1, 2, 3]
    for a, b in zip(one, two):
        for key in ("train_loss", "val_loss", "val_recon", "val_kl", "val_log_px"):
            assert b[key] == pytest.approx(a[key], abs=TOLERANCE_NATS), key
    a, b = vaekit.load(runs / "p1"), vaekit.load(runs / "p2")
    assert max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters())) < 1e-5
    config = json.loads((runs / "p2" / "config.json").read_text())
    assert config["world_size"] == 2
    assert json.loads((runs / "p1" / "config.json").read_text())["world_size"] == 1
    # rank 0 alone wrote: one run, its files, no stray temporaries
    names = sorted(p.name for p in (runs / "p2").iterdir())
    assert "metrics.jsonl" in names and "samples.png" in names and not [n for n in names if ".tmp" in n]


def test_ranks_hold_identical_weights_and_a_difference_is_caught(tmp_path):
    for objective in ("elbo", "iwae"):   # the hand-written step, and the autograd path
        out = tmp_path / objective
        out.mkdir()
        r = subprocess.run([*STANDALONE, "2", str(WORKER), str(out), "--objective", objective],
                           capture_output=True, text=True, env=ENV, timeout=JOB_TIMEOUT_S)
        assert r.returncode == 0, r.stderr[-3000:]
        ranks = [torch.load(out / f"rank{i}.pt") for i in (0, 1)]
        assert ranks[0]["world"] == ranks[1]["world"] == 2
        for key, value in ranks[0]["state"].items():
            assert torch.equal(value, ranks[1]["state"][key]), key        # bit for bit
        assert timeless(ranks[0]["history"]) == timeless(ranks[1]["history"])   # the metrics were reduced, not per rank
        assert "the ranks' weights differ" in (out / "checksum.txt").read_text()
        assert json.loads((out / "run" / "config.json").read_text())["world_size"] == 2   # fit(cfg, path) on every rank
        saved = vaekit.load(out / "run").state_dict()
        assert all(torch.equal(saved[k], v) for k, v in ranks[0]["state"].items())


def test_distributed_eval_equals_one_process_eval(runs):
    one = json.loads(ok(vaekit_cli("eval", runs / "p2", "--k", "50", "--json")).stdout)
    r = ok(vaekit_cli("eval", runs / "p2", "--k", "50", "--json", procs=2))
    two = json.loads(r.stdout)                                          # rank 0 alone printed
    assert two["world_size"] == 2 and two["n"] == one["n"]
    for key in ("elbo", "recon", "kl", "log_px", "log_px_se", "gap", "bits_per_dim"):
        assert two[key] == pytest.approx(one[key], abs=1e-9), key       # the same samples, summed in another order
    assert two["active_units"] == one["active_units"]
    np_one, np_two = one["kl_per_dim"], two["kl_per_dim"]
    assert np_two == pytest.approx(np_one, abs=1e-9)


def test_resume_with_another_number_of_processes(runs, tmp_path):
    """2 epochs on 1 process, then to epoch 3 on 2 processes: the 3-epoch run of one process."""
    run = tmp_path / "resumed"
    ok(vaekit_cli("train", *TRAIN, "--epochs", "2", "--batch-size", "629", "--out", run))
    ok(vaekit_cli("train", "--out", run, "--resume", "--epochs", "3", procs=2))
    got, want = metrics(run), metrics(runs / "p1")
    assert [r["epoch"] for r in got] == [1, 2, 3]
    assert got[-1]["val_loss"] == pytest.approx(want[-1]["val_loss"], abs=TOLERANCE_NATS)
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 1 and config["resumed_world_sizes"] == [2]


def test_a_killed_worker_ends_the_job_and_a_resume_continues(tmp_path):
    run = tmp_path / "killed"
    job = subprocess.Popen([*STANDALONE, "2", "-m", "vaekit", "train", *BASE, "--log-px-every", "0",
                            "--epochs", "400", "--out", str(run)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        wait_for_epochs([job], run, 2)   # a checkpoint to resume from
        pids = worker_pids(job.pid)
        assert sorted(pids) == [0, 1]
        os.kill(pids[1], signal.SIGKILL)
        out, err = job.communicate(timeout=JOB_TIMEOUT_S)   # the others do not hang
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0
    assert "rank      : 1" in err and "SIGKILL" in err                 # torchrun names the rank that died
    done = len(metrics(run))
    assert 2 <= done < 400
    ok(vaekit_cli("train", "--out", run, "--resume", "--epochs", done + 2, procs=2))
    assert [r["epoch"] for r in metrics(run)] == list(range(1, done + 3))


def test_torchrun_restarts_resume_the_run(tmp_path):
    """--max-restarts: the restarted workers find the run their first attempt made and continue it."""
    run = tmp_path / "restarted"
    job = subprocess.Popen([*STANDALONE, "2", "--max-restarts", "1", "-m", "vaekit", "train", *BASE,
                            "--log-px-every", "0", "--epochs", "60", "--out", str(run)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        wait_for_epochs([job], run, 2)
        os.kill(worker_pids(job.pid)[1], signal.SIGKILL)
        out, err = job.communicate(timeout=JOB_TIMEOUT_S)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 0, err[-3000:]
    assert "torchrun restart 1: resuming" in out
    assert [r["epoch"] for r in metrics(run)] == list(range(1, 61))
    assert json.loads((run / "config.json").read_text())["resumed_world_sizes"] == [2]


def test_commands_that_run_in_one_process_refuse_torchrun(tmp_path):
    r = vaekit_cli("gmm", "--data", "digits", "--components", "2", "--out", tmp_path / "g", procs=2)
    assert r.returncode != 0
    assert "vaekit gmm runs in one process; under torchrun only train and eval run on several" in r.stderr


def test_an_error_on_rank_0_reaches_every_rank_at_once(runs):
    """Rank 0 alone opens the run directory; when it refuses (the run exists), the others stop too."""
    start = time.monotonic()
    r = vaekit_cli("train", *TRAIN, "--epochs", "1", "--out", runs / "p2", procs=2)
    assert r.returncode != 0 and time.monotonic() - start < 40          # not after VAEKIT_DIST_TIMEOUT (60 s)
    assert "vaekit (rank 0 of 2): error:" in r.stderr
    assert "vaekit (rank 1 of 2): error: on rank 0:" in r.stderr
    assert len(metrics(runs / "p2")) == 3                              # the run is untouched
