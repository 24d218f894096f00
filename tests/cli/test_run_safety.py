"""Runs that never lose data, tried as a hostile but fair user would: real processes, real kills."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import vaekit
from data_files import mnist_with_truncated_file
from vaekit.cli.main import main

TINY = ["--hidden", "16", "--latent", "2", "--log-px-every", "0", "--device", "cpu"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def default_sigint() -> None:
    """In the child before it runs: Ctrl-C at its default.  A shell that starts the test run in the
    background (``pytest &``) leaves SIGINT ignored, and the children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def vaekit_cmd(*argv):
    return [sys.executable, "-m", "vaekit", *argv]


def one_line_error(capsys, *argv, match, code=2):
    got = main(list(argv))
    _, err = capsys.readouterr()
    assert got == code, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert match in err, err
    return err


def wait_for(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_two_trainings_into_one_directory(tmp_path):
    out = tmp_path / "R"
    endless = ["--epochs", "100000", *TINY]      # still training whenever the second one arrives
    first = subprocess.Popen(vaekit_cmd("train", "--seed", "0", "--out", str(out), *endless),
                             env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: (out / "checkpoint.json").exists())
        second = subprocess.run(vaekit_cmd("train", "--seed", "1", "--out", str(out), *endless),
                                env=ENV, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, first.stderr.read()
        assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
        assert f"another vaekit process (PID {first.pid})" in second.stderr
    finally:
        first.kill()
        first.wait()
    assert json.loads((out / "config.json").read_text())["fit"]["seed"] == 0
    assert vaekit.load(out).latent_dim == 2    # the first run's checkpoint, whole


def test_readers_never_see_a_half_written_run(tmp_path):
    out = tmp_path / "R"
    writer = subprocess.Popen(vaekit_cmd("train", "--epochs", "300", "--batch-size", "512", "--out", str(out), *TINY),
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: (out / "checkpoint.json").exists())
        failures, loads, epochs = [], 0, set()
        deadline = time.time() + 6
        while time.time() < deadline and writer.poll() is None:
            try:
                vaekit.load(out)
                loads += 1
                epochs.add(json.loads((out / "checkpoint.json").read_text())["epoch"])
            except Exception as e:   # noqa: BLE001 - any failure is the bug this test is about
                failures.append(f"{type(e).__name__}: {e}")
        assert not failures, failures[:3]
        assert loads > 20 and len(epochs) > 5, (loads, epochs)   # the checkpoint moved under the reader
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.parametrize("point", ["config.json", "metrics.jsonl", "checkpoints", "checkpoint.json"])
def test_sigkill_of_gmm_at_each_write_leaves_a_usable_folder(tmp_path, point, capsys):
    out = tmp_path / "G"
    argv = ["gmm", "--data", "digits", "--components", "10", "--tol", "0", "--max-iter", "40", "--device", "cpu"]
    victim = subprocess.Popen(vaekit_cmd(*argv, "--out", str(out)), env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    wait_for(lambda: (out / point).exists())
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    if (out / "checkpoint.json").exists():        # a whole run: evaluates, and is not overwritten
        assert main(["eval", str(out), "--json"]) == 0
        json.loads(capsys.readouterr()[0])
        one_line_error(capsys, *argv, "--out", str(out), match="already holds a gmm run")
    else:                                         # a half-made run: clear errors, then replaced
        one_line_error(capsys, "eval", str(out), match="no checkpoint found")
        assert main([*argv, "--max-iter", "3", "--out", str(out)]) == 0, capsys.readouterr()[1]
        capsys.readouterr()
        assert main(["eval", str(out), "--json"]) == 0
        assert json.loads(capsys.readouterr()[0])["model"] == "gmm"


def test_non_run_folder_is_refused_and_kept(tmp_path, capsys):
    mine = tmp_path / "P" / "checkpoints" / "mine"
    mine.mkdir(parents=True)
    (mine / "w").write_text("x")
    (tmp_path / "P" / "metrics.jsonl").write_text("my notes\n")
    one_line_error(capsys, "train", "--epochs", "2", "--out", str(tmp_path / "P"), *TINY,
                   match="is not empty and is not a vaekit run")
    assert (mine / "w").read_text() == "x" and (tmp_path / "P" / "metrics.jsonl").read_text() == "my notes\n"


def test_non_utf8_out_is_refused_at_the_start(tmp_path):
    done = subprocess.run([os.fsencode(sys.executable), b"-m", b"vaekit", b"train", b"--epochs", b"1", b"--out",
                           os.fsencode(tmp_path) + b"/run-\xff"] + [a.encode() for a in TINY],
                          env=ENV, capture_output=True)
    assert done.returncode == 2 and b"valid UTF-8" in done.stderr and done.stderr.count(b"\n") == 1
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("argv, match", [
    (["--out", ""], "--out must name a directory"),
    (["--lr", "inf"], "--lr must be a finite number > 0; got inf"),
    (["--seed", "18446744073709551616"], "--seed must be an integer in [0, 9223372036854775807]"),
    (["--log-px-k", "1000000000", "--log-px-every", "1"], "--log-px-k must be an integer in [1, 10000]"),
    (["--hidden", "2000000,2000000"], "--hidden: a model of"),
    (["--k", "5"], "--k=5 would be ignored"),
    (["--objective", "iwae", "--k", "2", "--beta", "0.5"], "--beta=0.5 would be ignored"),
    (["--model", "ae", "--free-bits", "0.5"], "--free-bits=0.5 would be ignored"),
    (["--data-dir", "/tmp"], "--data-dir='/tmp' would be ignored: digits is shipped inside scikit-learn"),
    (["--fast-path", "on", "--model", "ae"], "fast"),
])
def test_settings_that_cannot_work_are_one_line_errors(tmp_path, capsys, argv, match):
    one_line_error(capsys, "train", "--epochs", "1", *TINY, *argv, match=match)
    assert not any(tmp_path.iterdir())


def test_a_huge_anneal_k_is_blamed_on_itself(tmp_path, capsys):
    """The memory check counts the annealed epochs' k when it is the larger, and names --anneal-k."""
    err = one_line_error(capsys, "train", "--epochs", "1", *TINY, "--objective", "iwae", "--k", "4", "--anneal-std",
                         "0.3,0.02", "--anneal-std-epochs", "1", "--likelihood", "gaussian", "--anneal-k",
                         "1000000000", "--out", str(tmp_path / "r"), match="vaekit: error: --anneal-k: a model of")
    assert "with anneal_k=1,000,000,000 samples each" in err and err.rstrip().endswith("lower --anneal-k")
    assert not any(tmp_path.iterdir())


def test_bad_out_and_config_paths(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    one_line_error(capsys, "train", "--out", str(tmp_path / "file"), *TINY, match="is not a directory")
    one_line_error(capsys, "train", "--config", str(tmp_path), *TINY, match="expected a TOML file, got a directory")
    for toml, match in (("data_dir = 5", "--data-dir must be a non-empty string; got 5"),
                        ("beta = inf", "--beta must be a finite number >= 0; got inf"),
                        ("free_bits = inf", "--free-bits must be a finite number >= 0; got inf")):
        (tmp_path / "c.toml").write_text(toml + "\n")
        one_line_error(capsys, "train", "--config", str(tmp_path / "c.toml"), *TINY, match=match)


def test_gmm_sizes_are_checked_before_allocating(tmp_path, capsys):
    one_line_error(capsys, "gmm", "--data", "digits", "--components", "4000000", "--out", str(tmp_path / "g"),
                   match="--components must be at most the number of training examples (1259); got 4000000")


def test_eval_k_is_bounded_unless_forced(tmp_path, capsys):
    out = tmp_path / "R"
    assert main(["train", "--epochs", "1", "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    one_line_error(capsys, "eval", str(out), "--k", "1000000000", match="decoder passes")
    one_line_error(capsys, "eval", str(out), "--k", "100001", match="without --force")
    from vaekit.rundir.evaluate import check_k

    check_k(100_001, 359, force=True)           # --force lifts the limit (a run that long is not made here)
    with pytest.raises(vaekit.errors.ConfigError, match="k must be a positive integer"):
        check_k(0, 359, force=True)             # but never the check of the value itself


def test_non_finite_validation_stops_before_its_checkpoint(tmp_path):
    import torch

    from vaekit.errors import TrainingDiverged
    from vaekit.train import TrainConfig, fit

    holder = {}
    import vaekit.train.run as fit_module
    real_train_epoch = fit_module.train_epoch

    def progress(rows, epoch):
        yield from rows
        if epoch == 2:   # after epoch 2's last step: a training loss that was finite, a model that is not
            with torch.no_grad():
                holder["model"].decoder.net[-1].bias.fill_(float("inf"))

    def capture(model, *a, **k):
        holder["model"] = model
        return real_train_epoch(model, *a, **k)

    fit_module.train_epoch = capture
    try:
        with pytest.raises(TrainingDiverged, match="non-finite validation loss at epoch 2"):
            fit(TrainConfig(epochs=4, hidden=(16,), latent=2, log_px_every=0, device="cpu"), tmp_path / "R",
                progress=progress)
    finally:
        fit_module.train_epoch = real_train_epoch
    assert json.loads((tmp_path / "R" / "checkpoint.json").read_text())["epoch"] == 1
    assert [json.loads(line)["epoch"] for line in (tmp_path / "R" / "metrics.jsonl").read_text().splitlines()] == [1]


def test_damaged_run_files_on_resume(tmp_path, capsys):
    out = tmp_path / "R"
    assert main(["train", "--epochs", "2", "--out", str(out), *TINY]) == 0
    (out / "metrics.jsonl").write_text('{"epoch": 1, "train_loss": 1.0}\n{garbage\n')   # metrics never block
    assert main(["train", "--resume", "--epochs", "3", "--out", str(out)]) == 0, capsys.readouterr()[1]
    assert [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 3]
    config = json.loads((out / "config.json").read_text())
    assert config["command"][:2] == ["vaekit", "train"] and "--resume" not in config["command"]
    assert config["resumed"] == [["vaekit", "train", "--resume", "--epochs", "3", "--out", str(out)]]
    (out / "config.json").write_text(json.dumps({**config, "fit": {**config["fit"], "colour": "red"}}))
    one_line_error(capsys, "train", "--resume", "--epochs", "4", "--out", str(out), match="unknown setting(s) colour")
    (out / "config.json").write_text(json.dumps(config))
    pointer = json.loads((out / "checkpoint.json").read_text())
    (out / "checkpoint.json").write_text(json.dumps({**pointer, "sha256": ["x"]}))
    one_line_error(capsys, "train", "--resume", "--epochs", "4", "--out", str(out), match="corrupted checkpoint pointer")
    assert main(["gmm", "--data", "digits", "--components", "2", "--max-iter", "2", "--out", str(tmp_path / "G")]) == 0
    capsys.readouterr()
    one_line_error(capsys, "train", "--resume", "--out", str(tmp_path / "G"), match="is a gmm run")


def test_resume_applies_a_config_file_or_refuses_what_cannot_change(tmp_path, capsys):
    out = tmp_path / "R"
    assert main(["train", "--epochs", "1", "--out", str(out), *TINY]) == 0
    (tmp_path / "more.toml").write_text("epochs = 2\n")
    assert main(["train", "--resume", "--config", str(tmp_path / "more.toml"), "--out", str(out)]) == 0
    assert json.loads((out / "checkpoint.json").read_text())["epoch"] == 2
    (tmp_path / "other.toml").write_text("epochs = 3\nlatent = 5\n")
    one_line_error(capsys, "train", "--resume", "--config", str(tmp_path / "other.toml"), "--out", str(out),
                   match="--latent cannot change on --resume")


def test_damaged_test_files_are_found_before_the_first_epoch(tmp_path, capsys, mnist_full):
    bad = mnist_with_truncated_file(mnist_full, tmp_path / "mnist", "t10k-images-idx3-ubyte.gz", 1000)
    start = time.time()
    one_line_error(capsys, "train", "--data", "mnist", "--data-dir", str(bad), "--epochs", "50",
                   "--out", str(tmp_path / "R"), *TINY, match="t10k-images-idx3-ubyte.gz")
    assert time.time() - start < 30 and not (tmp_path / "R").exists()


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_never_prints_a_traceback(tmp_path, presses):
    out = tmp_path / "R"
    proc = subprocess.Popen(vaekit_cmd("train", "--epochs", "500", "--out", str(out), *TINY), env=ENV,
                            preexec_fn=default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)               # while Python is still importing
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (130, -signal.SIGINT) and "Traceback" not in err, err
    proc = subprocess.Popen(vaekit_cmd("train", "--epochs", "500", "--out", str(tmp_path / "S"), *TINY), env=ENV,
                            preexec_fn=default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: (tmp_path / "S" / "checkpoint.json").exists())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "the last checkpoint (epoch" in err, err
