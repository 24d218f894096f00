"""The run directory: one layout for every kind of run, locks, what is never deleted, safe readers."""

import json
import os
import struct

import pytest
import torch

import vaekit
from vaekit.errors import CheckpointError, RunDirError
from vaekit.models import ModelConfig, build_model
from vaekit.rundir import RunDir, load_checkpoint, read_config, read_metrics, run_config, status
from vaekit.rundir.lock import RunLock

MODEL = ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2)


def _run_with_checkpoints(path, epochs=(1,)):
    model = build_model(MODEL)
    with RunDir.create(path) as run:
        run.write_config(run_config("vae", MODEL.to_dict(), {"epochs": 3}, {"name": "x"}, "cpu", ["vaekit", "t"]))
        for e in epochs:
            run.save_checkpoint(model, {"epoch": e}, e)
    return model


def test_one_config_layout_for_every_kind(tmp_path):
    keys = set()
    for kind in ("vae", "gmm"):
        config = run_config(kind, {}, {}, {"name": "digits"}, "cpu", ["vaekit"])
        keys.add(frozenset(config))
    assert len(keys) == 1
    assert set(next(iter(keys))) == {"format", "kind", "model", "fit", "data", "device", "vaekit_version",
                                      "torch_version", "command"}


def test_refuses_a_folder_it_did_not_write_and_deletes_nothing(tmp_path):
    mine = tmp_path / "checkpoints" / "mine"
    mine.mkdir(parents=True)
    (mine / "w").write_text("x")
    (tmp_path / "config.json").write_text('{"mine": true}')
    with pytest.raises(RunDirError, match="is not empty and is not a vaekit run"):
        RunDir.create(tmp_path)
    assert (mine / "w").read_text() == "x" and json.loads((tmp_path / "config.json").read_text()) == {"mine": True}
    assert not (tmp_path / ".lock").exists()


def test_prunes_only_its_own_checkpoint_folders_keeping_the_previous_one(tmp_path):
    run_dir = tmp_path / "run"
    _run_with_checkpoints(run_dir, epochs=(1, 2, 3))
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert names == ["epoch-000002", "epoch-000003"]     # the previous one stays for readers
    (run_dir / "checkpoints" / "notes").mkdir()
    with RunDir.resume(run_dir) as run:
        run.save_checkpoint(build_model(MODEL), {"epoch": 4}, 4)
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert names == ["epoch-000003", "epoch-000004", "notes"]


def test_a_half_made_run_is_replaced_and_a_whole_one_refused(tmp_path):
    with RunDir.create(tmp_path) as run:
        run.write_config(run_config("gmm", {}, {}, {"name": "x"}, "cpu", ["vaekit"]))
    (tmp_path / "user-notes.txt").write_text("keep")
    assert status(tmp_path) == "half"
    with RunDir.create(tmp_path):
        assert not (tmp_path / "config.json").exists()    # replaced ...
    assert (tmp_path / "user-notes.txt").read_text() == "keep"   # ... and nothing else touched
    _run_with_checkpoints(tmp_path / "whole")
    with pytest.raises(RunDirError, match="already holds a vae run; use `resume=True`"):
        RunDir.create(tmp_path / "whole", "train")


def test_a_second_writer_is_told_who_holds_the_lock(tmp_path):
    with RunDir.create(tmp_path):
        with pytest.raises(RunDirError, match=rf"another vaekit process \(PID {os.getpid()}\)"):
            RunLock(tmp_path).acquire()
    RunLock(tmp_path).acquire().release()     # released on close


@pytest.mark.parametrize("out, match", [("", "^out must name a directory"), ("   ", "^out must name a directory"),
                                        (os.fsdecode(b"run-\xff"), "valid UTF-8")])
def test_bad_out_values(tmp_path, out, match):
    with pytest.raises(RunDirError, match=match):
        RunDir.create(out)


def test_checkpoint_temporary_names_are_unique_per_process(tmp_path, monkeypatch):
    seen = []
    real_mkdir = type(tmp_path).mkdir

    def spy(self, *a, **k):
        seen.append(self.name)
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(type(tmp_path), "mkdir", spy)
    _run_with_checkpoints(tmp_path / "run", epochs=(1, 2))
    temps = [n for n in seen if n.endswith(".tmp")]
    assert len(temps) == 2 and len(set(temps)) == 2 and all(f".{os.getpid()}-" in n for n in temps)


def test_damaged_files_are_one_line_checkpoint_errors(tmp_path):
    run_dir = tmp_path / "run"
    _run_with_checkpoints(run_dir)
    pointer = run_dir / "checkpoint.json"
    record = json.loads(pointer.read_text())
    for bad in ([], {"epoch": 1, "path": "checkpoints/epoch-000001", "sha256": []},
                {**record, "path": "../../etc"}, {**record, "sha256": {"model.safetensors": 5}}):
        pointer.write_text(json.dumps(bad))
        with pytest.raises(CheckpointError, match="corrupted checkpoint pointer"):
            vaekit.load(run_dir)
    pointer.write_text(json.dumps(record))
    config = run_dir / "config.json"
    good = config.read_text()
    config.write_text(json.dumps({**json.loads(good), "kind": "gan"}))
    with pytest.raises(CheckpointError, match="damaged run config"):
        read_config(run_dir)
    config.unlink()
    os.symlink("/dev/zero", config)
    with pytest.raises(CheckpointError, match="expected a regular file, got a character device"):
        read_config(run_dir)
    config.unlink()
    os.mkfifo(config)
    with pytest.raises(CheckpointError, match="expected a regular file, got a FIFO"):
        read_config(run_dir)


def test_a_hostile_weights_header_is_refused_before_allocating(tmp_path):
    run_dir = tmp_path / "run"
    _run_with_checkpoints(run_dir)
    folder = run_dir / "checkpoints" / "epoch-000001"
    data = (folder / "model.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    config = json.loads(header["__metadata__"]["model_config"])
    for hidden, match in (([50_000, 50_000], "more than vaekit loads"), ([400], "weights do not fit")):
        header["__metadata__"]["model_config"] = json.dumps({**config, "image_shape": [1, 28, 28], "hidden": hidden})
        raw = json.dumps(header).encode()
        (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
        with pytest.raises(CheckpointError, match=match):
            vaekit.load(run_dir)


def test_malicious_state_is_refused_without_unsafe_advice(tmp_path):
    import hashlib
    import pickle

    class Bomb:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    run_dir = tmp_path / "run"
    _run_with_checkpoints(run_dir)
    state = run_dir / "checkpoints" / "epoch-000001" / "state.pt"
    state.write_bytes(pickle.dumps(Bomb()))
    pointer = run_dir / "checkpoint.json"
    record = json.loads(pointer.read_text())
    record["sha256"]["state.pt"] = hashlib.sha256(state.read_bytes()).hexdigest()   # a careful attacker
    pointer.write_text(json.dumps(record))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(run_dir, want_state=True)
    message = str(info.value)
    assert "state.pt: the training state is damaged" in message and "weights_only" not in message
    assert "\n" not in message and not (tmp_path / "pwned").exists()


def test_metrics_are_rebuilt_from_what_can_be_read(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1, "a": 1}\n{"epoch": 2, "a": 2\n[1]\n{"epoch": 3}\n'
                                            '{"epoch": 1, "a": 9}\n')
    assert read_metrics(tmp_path, upto=2) == [{"epoch": 1, "a": 9}]
    assert [r["epoch"] for r in read_metrics(tmp_path)] == [1, 3]


def test_json_written_is_strict(tmp_path):
    with RunDir.create(tmp_path) as run:
        run.write_metrics([{"epoch": 1, "val_loss": float("inf"), "x": float("nan")}])
    line = (tmp_path / "metrics.jsonl").read_text()

    def refuse(name):
        raise ValueError(name)

    record = json.loads(line, parse_constant=refuse)
    assert record == {"epoch": 1, "val_loss": None, "x": None, "non_finite": {"val_loss": "inf", "x": "nan"}}


def test_full_disk_says_so_and_keeps_the_previous_checkpoint(tmp_path):
    import shutil
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    try:
        big = ModelConfig(image_shape=(1, 8, 8), hidden=(64,), latent=4)   # ~40 kB of weights
        model = build_model(big)
        with RunDir.create(mount / "run") as run:
            run.write_config(run_config("vae", big.to_dict(), {}, {"name": "x"}, "cpu", ["vaekit"]))
            run.save_checkpoint(model, {"epoch": 1}, 1)
            with pytest.raises(RunDirError, match=r"the disk is full .*; the previous checkpoint \(epoch-000001\)"):
                for epoch in range(2, 6):
                    run.save_checkpoint(model, {"epoch": epoch, "pad": torch.zeros(4096)}, epoch)
        loaded, state, record = load_checkpoint(mount / "run", want_state=True)
        assert record["epoch"] >= 1 and state["epoch"] == record["epoch"]
        assert not [p for p in (mount / "run" / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)
