"""What a hostile user still broke (issue 23, part 4), each now one line and exit code 2:
damaged training states, checkpoint folders and metrics, sizes that were allocated before they
were checked, paths that are not folders, config files that are not files, a closed pipe, a
time budget that ends before the first epoch, and a Ctrl-C while the command is still importing.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit.cli.main import main

TINY = ["--hidden", "16", "--latent", "2", "--log-px-every", "0", "--device", "cpu"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def default_sigint() -> None:
    """In the child before it runs: Ctrl-C at its default.  A shell that starts the test run in the
    background (``pytest &``) leaves SIGINT ignored, and the children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def one_line_error(capsys, *argv, match, code=2):
    got = main(list(map(str, argv)))
    _, err = capsys.readouterr()
    assert got == code, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert match in err, err
    return err


def vaekit(*argv, timeout=120, **kwargs):
    """The real command in a process of its own: (return code, stdout, stderr, peak resident MB)."""
    process = subprocess.Popen([sys.executable, "-m", "vaekit", *map(str, argv)], env=ENV, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


# The child's own peak: VmHWM of the process after it started Python.  (wait4's ru_maxrss also
# counts the pages a forked child shares with its parent before exec: a pytest process grown
# by earlier tests made a 233 MB run read 752 MB.)  The wrapper writes it to the file named
# first; ``python -m vaekit`` runs otherwise as the command itself.
PEAK = ("import atexit, runpy, sys\n"
        "out = sys.argv.pop(1)\n"
        "def peak():\n"
        "    with open('/proc/self/status') as f:\n"
        "        kb = next(line.split()[1] for line in f if line.startswith('VmHWM:'))\n"
        "    with open(out, 'w') as f:\n"
        "        f.write(kb)\n"
        "atexit.register(peak)\n"
        "runpy.run_module('vaekit', run_name='__main__', alter_sys=True)\n")


def peak_mb_of(*argv, timeout=120) -> tuple[int, str, float]:
    """Run the command and measure its peak resident memory (its own VmHWM, MB)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "peak"
        process = subprocess.Popen([sys.executable, "-c", PEAK, str(out), *map(str, argv)], env=ENV, text=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = process.communicate(timeout=timeout)
        return process.returncode, err, int(out.read_text()) / 1024


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny finished run (2 epochs on digits), copied by each test that damages it."""
    out = tmp_path_factory.mktemp("hostile") / "R"
    assert main(["train", "--epochs", "2", "--out", str(out), *TINY]) == 0
    return out


def copy_of(trained: Path, tmp_path: Path) -> Path:
    out = tmp_path / "R"
    shutil.copytree(trained, out)
    (out / ".lock").unlink(missing_ok=True)
    return out


def current_folder(run: Path) -> Path:
    return run / json.loads((run / "checkpoint.json").read_text())["path"]


def replace_state(run: Path, state) -> None:
    """Write ``state`` as the current state.pt, with a matching sha256 (a careful attacker, or a bug)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    (current_folder(run) / "state.pt").write_bytes(buf.getvalue())
    pointer = json.loads((run / "checkpoint.json").read_text())
    pointer["sha256"]["state.pt"] = hashlib.sha256(buf.getvalue()).hexdigest()
    (run / "checkpoint.json").write_text(json.dumps(pointer))


# ---------------------------------------------------------------------------------------- damaged runs


def _damaged_states(state: dict) -> dict:
    optimizer, generator = state["optimizer"], state["generator"]
    shrunk = {"state": {k: {name: (v[..., :1] if name != "step" else v) for name, v in per.items()}
                        for k, per in optimizer["state"].items()},
              "param_groups": optimizer["param_groups"]}
    return {
        "no optimizer": {"epoch": 2, "generator": generator},
        "no generator": {"epoch": 2, "optimizer": optimizer},
        "optimizer without param_groups": {"epoch": 2, "optimizer": {"state": {}}, "generator": generator},
        "optimizer a number": {"epoch": 2, "optimizer": 5, "generator": generator},
        "optimizer of another model": {"epoch": 2, "optimizer": {**optimizer, "param_groups": [
            {**optimizer["param_groups"][0], "params": [0, 1]}]}, "generator": generator},
        "moments of the wrong shape": {"epoch": 2, "optimizer": shrunk, "generator": generator},
        "generator of the wrong size": {"epoch": 2, "optimizer": optimizer,
                                        "generator": torch.zeros(3, dtype=torch.uint8)},
        "generator a string": {"epoch": 2, "optimizer": optimizer, "generator": "seed"},
    }


def test_a_damaged_training_state_is_one_line(trained, tmp_path, capsys):
    state = torch.load(current_folder(trained) / "state.pt", weights_only=True)
    for name, damaged in _damaged_states(state).items():
        run = copy_of(trained, tmp_path / name.replace(" ", "-"))
        replace_state(run, damaged)
        one_line_error(capsys, "train", "--resume", "--epochs", "3", "--out", run,
                       match="state.pt: the training state is damaged")
        assert json.loads((run / "checkpoint.json").read_text())["epoch"] == 2    # nothing was trained


def test_a_checkpoint_folder_replaced_by_a_file(trained, tmp_path, capsys):
    run = copy_of(trained, tmp_path)
    folder = current_folder(run)
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    for argv in (["eval", run, "--k", "2"], ["train", "--resume", "--epochs", "3", "--out", run]):
        one_line_error(capsys, *argv, match=f"{folder}: checkpoint is corrupted (not a directory)")
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("not a folder either")
    one_line_error(capsys, "eval", run, "--k", "2", match="checkpoint is corrupted (not a directory)")


@pytest.mark.parametrize("elapsed", [None, "abc", [], -5, True])
def test_damaged_elapsed_times_never_block_a_resume(trained, tmp_path, capsys, elapsed):
    run = copy_of(trained, tmp_path)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    records[-1]["elapsed"] = elapsed
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["train", "--resume", "--epochs", "3", "--time-budget", "1h", "--out", str(run)]) == 0, \
        capsys.readouterr()[1]
    written = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in written] == [1, 2, 3]
    # the clock goes on from the last time that can be read (epoch 1's)
    assert written[2]["elapsed"] > written[0]["elapsed"]


# ---------------------------------------------------------------------------------------- paths


def test_out_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file" / "sub", tmp_path / "file" / "a" / "b"):
        one_line_error(capsys, "train", "--epochs", "1", *TINY, "--out", out,
                       match=f"{tmp_path / 'file'} is a file, not a directory")
    assert (tmp_path / "file").read_text() == "x"


def test_a_config_file_must_be_a_regular_file_of_bounded_size(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    for config, match in ((fifo, "expected a regular file, got a FIFO"),
                          ("/dev/zero", "expected a regular file, got a character device"),
                          (big, "expected at most 1,048,576 bytes")):
        code, _, err = vaekit("train", "--epochs", "1", *TINY, "--config", config, "--out", tmp_path / "R",
                              timeout=60)
        assert code == 2 and err.count("\n") == 1 and match in err and str(config) in err, err
    assert not (tmp_path / "R").exists()


def test_eval_into_a_closed_pipe_exits_quietly(trained):
    process = subprocess.Popen([sys.executable, "-m", "vaekit", "eval", str(trained), "--k", "2", "--json"],
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()   # as `| head -1` does once it has its line, here before the first one
    err = process.stderr.read().decode()
    assert process.wait(120) == 141 and err == "", err     # as a Unix tool killed by SIGPIPE: 128 + 13


# ---------------------------------------------------------------------------------------- sizes


def test_a_huge_iwae_k_is_refused_before_the_run_folder_exists(tmp_path, capsys):
    one_line_error(capsys, "train", "--objective", "iwae", "--k", "1000000000", "--epochs", "1", *TINY,
                   "--out", tmp_path / "R", match="--k: ")
    assert not (tmp_path / "R").exists()


def test_a_huge_image_size_is_refused_before_the_images_are_resized(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    code, err, peak = peak_mb_of("train", "--data", folder, "--image-size", "6000", "--epochs", "1", *TINY,
                                 "--out", tmp_path / "R")
    assert code == 2 and err.count("\n") == 1, err
    assert "--image-size: " in err and "1x6000x6000 images" in err, err
    assert peak < 700, peak          # 20 images at 6000x6000 are 720 MB: never made
    assert not (tmp_path / "R").exists()


def test_a_resume_builds_the_checkpoints_model_not_config_json_s(trained, tmp_path):
    run = copy_of(trained, tmp_path)
    config = json.loads((run / "config.json").read_text())
    config["fit"]["hidden"] = [2_000_000]
    (run / "config.json").write_text(json.dumps(config))
    code, err, peak = peak_mb_of("train", "--resume", "--epochs", "3", "--out", run)
    assert code == 2 and err.count("\n") == 1, err
    assert "config.json" in err and "hidden=2000000" in err and "hidden=16" in err, err
    assert peak < 1000, peak         # the 2,000,000-wide model is 1.9 GB: never built


def test_a_too_large_second_layer_is_blamed_on_its_own_flags(tmp_path, capsys):
    err = one_line_error(capsys, "train", "--stochastic-layers", "2", "--latent2", "10000000", "--hidden2", "100",
                         "--epochs", "1", *TINY, "--out", tmp_path / "R", match="--latent2: a model of")
    assert "lower --latent2" in err and "--hidden " not in err.split("lower")[1], err


# ---------------------------------------------------------------------------------------- time budget


def test_a_budget_that_ends_before_the_first_epoch_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "tb"
    one_line_error(capsys, "train", "--time-budget", "1e-9s", "--epochs", "2", *TINY, "--out", out,
                   match="--time-budget: 1e-09 s ended before the first epoch")
    assert not out.exists()
    out.mkdir()                                                        # a folder the user made stays, empty
    one_line_error(capsys, "train", "--time-budget", "1e-9s", "--epochs", "2", *TINY, "--out", out,
                   match="ended before the first epoch")
    assert out.is_dir() and list(out.iterdir()) == []


# ---------------------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_while_the_command_imports_is_one_line(tmp_path):
    """A Ctrl-C once Python says it has imported vaekit.cli (python -v): still importing the command."""
    script = Path(sys.executable).with_name("vaekit")       # the console script, as a user runs it
    for command in [[str(script)]] * 3 + [["-m", "vaekit"]] * 2:
        process = subprocess.Popen([sys.executable, "-v", *command, "train", "--out", str(tmp_path / "R")],
                                   preexec_fn=default_sigint,
                                   env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in process.stderr:
            lines.append(line)
            if line.startswith("import 'vaekit.cli'"):
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        code = process.wait(60)
        # (python -v writes some of its lines in pieces: the one line can land inside one of them)
        said = [line for line in (lines[-1:] + rest.splitlines(keepends=True))
                if not line.startswith(("#", "import ")) and "matches" not in line]
        assert code == 130, (code, said)
        assert "Traceback" not in rest and "vaekit: interrupted\n" in lines[-1] + rest, said
