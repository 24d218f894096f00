"""Runs saved before the models were built from parts (vaekit at 02e6522) still load, evaluate and resume.

Their weights name the VampPrior's pseudo-inputs ``pseudo_logits`` and the two-layer model's
``encoder2.*`` and ``prior1.*``; today's parts own them as ``prior.pseudo_logits``,
``posterior.encoder2.*`` and ``prior.conditional.*`` (``models.vae.OLD_NAMES``).  The runs ship
in ``tests/files/runs-0.x`` (see ``tests/files/SOURCES.md``).
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import vaekit

OLD = Path(__file__).parents[1] / "files" / "runs-0.x"
RENAMED = {"vamp": {"pseudo_logits": "prior.pseudo_logits"},
           "two-layer": {"encoder2.net.0.weight": "posterior.encoder2.net.0.weight",
                         "prior1.net.2.bias": "prior.conditional.net.2.bias"}}


@pytest.mark.parametrize("name", RENAMED)
def test_an_old_run_loads_with_its_weights_under_the_parts_names(name):
    saved = load_file(OLD / name / "checkpoints" / "epoch-000001" / "model.safetensors")
    model = vaekit.load(OLD / name)
    state = model.state_dict()
    assert len(state) == len(saved)
    for old, new in RENAMED[name].items():
        assert torch.equal(state[new], saved[old]), old
    x = vaekit.data.load("digits", "test").model_input("bernoulli")[:20]
    assert torch.isfinite(model.log_prob(x, k=20)).all()


@pytest.mark.parametrize("name", RENAMED)
def test_an_old_run_resumes_and_evaluates(name, tmp_path):
    run = tmp_path / name
    shutil.copytree(OLD / name, run)
    r = subprocess.run([sys.executable, "-m", "vaekit", "train", "--resume", "--out", str(run), "--epochs", "2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr                       # the saved Adam moments fit the parameters in order
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [1, 2]
    if name == "vamp":   # bit for bit the weights vaekit at 02e6522 trained in one go to epoch 2
        want, got = load_file(OLD / "vamp-epoch-2.safetensors"), vaekit.load(run).state_dict()
        assert all(torch.equal(got[RENAMED["vamp"].get(k, k)], v) for k, v in want.items())
    r = subprocess.run([sys.executable, "-m", "vaekit", "eval", str(run), "--k", "20", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["log_px"] < 0
