import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import vaekit
from vaekit.errors import CheckpointError, TrainingDiverged
from vaekit.train import TrainConfig, fit

SMALL = dict(data="digits", hidden=(64,), latent=8, batch_size=64, log_px_every=0, device="cpu")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    _, records = fit(TrainConfig(**{**SMALL, "epochs": 8, "log_px_every": 4, "log_px_k": 20}), run,
                     command=["test"])
    return run, records


def test_training_improves_val_elbo_and_writes_the_run(trained):
    run, records = trained
    assert [r["epoch"] for r in records] == list(range(1, 9))
    assert records[-1]["val_loss"] < records[0]["val_loss"] - 5
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == records
    for r in records:
        assert {"epoch", "train_loss", "val_loss", "seconds"} <= set(r)
        assert math.isfinite(r["train_loss"]) and r["seconds"] > 0
    # val log p(x) logged every 4 epochs, and above the ELBO (it is a tighter bound)
    assert [r["epoch"] for r in records if "val_log_px" in r] == [4, 8]
    assert all(r["val_log_px"] > -r["val_loss"] for r in records if "val_log_px" in r)
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "vae" and config["fit"]["epochs"] == 8 and config["model"]["latent"] == 8
    assert config["data"]["name"] == "digits" and config["data"]["image_shape"] == [1, 8, 8]
    assert config["vaekit_version"] == vaekit.__version__ and config["torch_version"] == torch.__version__
    assert config["command"] == ["test"]
    assert not list(run.glob("*.png"))      # training draws no pictures: the CLI asks viz for them


def test_load_returns_eval_model_with_the_promised_api(trained):
    run, _ = trained
    model = vaekit.load(run)
    assert not model.training and next(model.parameters()).device.type == "cpu"
    assert model.latent_dim == 8 and model.likelihood == "bernoulli"
    x = torch.rand(5, 1, 8, 8)
    m, log_var = model.encode(x)
    assert m.shape == log_var.shape == (5, 8)
    dist = model.decode(m)
    assert dist.batch_shape == (5,) and dist.event_shape == (1, 8, 8)
    assert dist.log_prob(x.round()).shape == (5,)
    assert dist.mean.min() >= 0 and dist.mean.max() <= 1


def test_state_loads_with_weights_only(trained):
    run, _ = trained
    from vaekit.rundir import current

    folder, record = current(run)
    state = torch.load(folder / "state.pt", weights_only=True)
    assert state["epoch"] == record["epoch"] == 8
    assert "optimizer" in state and isinstance(state["generator"], torch.Tensor)
    # older checkpoints pruned; the one before the current is kept for readers
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch-000007", "epoch-000008"]


def test_ae_trains_and_has_no_variance(tmp_path):
    model, records = fit(TrainConfig(model="ae", epochs=2, **SMALL), tmp_path)
    assert all(r["val_kl"] == 0 for r in records) and not model.training
    m, log_var = vaekit.load(tmp_path).encode(torch.rand(2, 1, 8, 8))
    assert log_var is None and m.shape == (2, 8)


def test_refuses_to_overwrite_a_run(trained):
    run, _ = trained
    from vaekit.errors import RunDirError

    with pytest.raises(RunDirError, match="already holds a vae run; use `resume=True`"):
        fit(TrainConfig(epochs=1, **SMALL), run)


def test_fit_without_a_run_directory_trains_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, history = fit(TrainConfig(epochs=2, **SMALL))
    assert [r["epoch"] for r in history] == [1, 2] and not any(tmp_path.iterdir())
    assert model.encode(torch.rand(3, 1, 8, 8))[0].shape == (3, 8)


def test_non_finite_loss_stops_with_epoch_and_step_and_keeps_checkpoint(tmp_path, monkeypatch):
    import vaekit.train.run as run_module

    models = []
    real_build = run_module.build_model
    monkeypatch.setattr(run_module, "build_model", lambda *a, **k: models.append(real_build(*a, **k)) or models[-1])

    def progress(rows, epoch):   # poison a weight just before epoch 2's fifth step
        for step in rows:
            if epoch == 2 and step == 4:
                with torch.no_grad():
                    next(models[0].parameters())[0, 0] = float("nan")
            yield step

    with pytest.raises(TrainingDiverged, match=r"^non-finite loss at epoch 2, step 5 of 20$"):
        fit(TrainConfig(epochs=3, **SMALL), tmp_path, progress=progress)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 1
    assert all(torch.isfinite(p).all() for p in vaekit.load(tmp_path).parameters())


def _train_cmd(out, epochs):
    return [sys.executable, "-m", "vaekit", "train", "--data", "digits", "--hidden", "256", "--latent", "8",
            "--batch-size", "32", "--epochs", str(epochs), "--log-px-every", "0", "--device", "cpu",
            "--out", str(out)]


def _weights(run):
    return vaekit.load(run).state_dict()


def test_resume_after_sigkill_gives_identical_weights(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    epochs = 12
    subprocess.run(_train_cmd(tmp_path / "full", epochs), check=True, env=env, capture_output=True)

    victim = subprocess.Popen(_train_cmd(tmp_path / "killed", epochs), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = tmp_path / "killed" / "checkpoint.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if pointer.exists() and json.loads(pointer.read_text())["epoch"] >= 3:
            break
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = json.loads(pointer.read_text())["epoch"]
    assert 3 <= killed_at < epochs, "the run finished before it could be killed; make it longer"
    subprocess.run(_train_cmd(tmp_path / "killed", epochs) + ["--resume"], check=True, env=env,
                   capture_output=True)

    full, resumed = _weights(tmp_path / "full"), _weights(tmp_path / "killed")
    assert full.keys() == resumed.keys()
    for name in full:
        assert torch.equal(full[name], resumed[name]), name
    metrics = [json.loads(line) for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == list(range(1, epochs + 1))


def test_resume_refuses_missing_or_corrupted_checkpoint(tmp_path, trained):
    from vaekit.train.run import config_for_resume

    with pytest.raises(CheckpointError, match="config.json: missing"):
        config_for_resume(tmp_path, {})
    run, _ = trained
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(run, copy)
    weights = copy / json.loads((copy / "checkpoint.json").read_text())["path"] / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors: checkpoint is corrupted"):
        vaekit.load(copy)
