"""Every model vaekit builds from its parts, through the same generic checks.

    MODELS          one small training config per prior, posterior and hierarchy
    checks          shapes, finiteness and gradients; ELBO <= importance-sampled log p(x);
                    IWAE(k = 1) = ELBO; exact resume; ``vaekit eval``; ``vaekit serve``
"""

import json
import math
import subprocess
import sys
import urllib.request
from dataclasses import replace

import pytest
import torch

import vaekit
from vaekit.eval.likelihood import log_px
from vaekit.models import build_model
from vaekit.objectives import log_weights, negative_elbo
from vaekit.objectives.elbo import elbo
from vaekit.train import TrainConfig, fit
from vaekit.train.run import model_config
from vaekit.web.explorer import Explorer

from web.server import Server

COMMON = dict(data="digits", hidden=(16,), latent=3, epochs=2, log_px_every=0, seed=0)
MODELS = {
    "standard": TrainConfig(**COMMON),
    "vamp": TrainConfig(**COMMON, prior="vamp", pseudo_inputs=8),
    "mog": TrainConfig(**COMMON, prior="mog", prior_components=4),
    "two-layer": TrainConfig(**COMMON, stochastic_layers=2, latent2=2, hidden2=(8,)),
    "iaf": TrainConfig(**COMMON, posterior="iaf", flow_steps=2),
    "conditional": TrainConfig(**COMMON, condition="label"),
}
SHAPE = (1, 8, 8)


def _model(name, seed=0):
    model = build_model(model_config(MODELS[name], SHAPE, classes=10), seed=seed)
    with torch.no_grad():   # away from the zero start of the IAF's steps and the mixture's equal weights
        g = torch.Generator().manual_seed(seed)
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    return model


def _digits(n=24):
    """n test digits and their classes (the conditional model's y; None is given to the others)."""
    test = vaekit.data.load("digits", "test")
    return test.model_input("bernoulli")[:n], test.labels[:n]


def _y(model, labels):
    return labels if model.conditional else None


@pytest.mark.parametrize("name", MODELS)
def test_shapes_finiteness_and_gradients(name):
    model, (x, labels) = _model(name), _digits(5)
    y = _y(model, labels)
    m, log_var = model.encode(x, y)
    assert m.shape == log_var.shape == (5, model.latent_dim)
    z, log_q = model.q(m, log_var).rsample(7, torch.Generator().manual_seed(0))
    assert z.shape == (7, 5, model.latent_dim) and log_q.shape == (7, 5)
    assert model.prior.log_prob(z).shape == (7, 5) and model.prior.sample(4).shape == (4, model.latent_dim)
    terms = model(x, generator=torch.Generator().manual_seed(1), y=y)
    assert terms.recon.shape == (5,) and terms.kl.shape == (5, model.kl_size)
    loss, _, _ = negative_elbo(model, x, generator=torch.Generator().manual_seed(1), y=y)
    assert torch.isfinite(loss).all()
    loss.mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    assert model.sample(3, y=None if y is None else 2).shape == (3, *SHAPE)


@pytest.mark.parametrize("name", MODELS)
def test_the_elbo_is_below_the_importance_sampled_log_px(name):
    model, (x, labels) = _model(name), _digits()
    y = _y(model, labels)
    with torch.no_grad():
        terms = elbo(model, x, torch.Generator().manual_seed(0), q=model.encode(x, y), samples=500, y=y)   # means
        estimate = log_px(model, x, k=1000, generator=torch.Generator().manual_seed(1), y=y)
    bound = terms.recon - terms.kl.sum(-1)
    assert (estimate - bound).mean() > 0.05          # a real gap for these perturbed models
    assert (bound < estimate + 0.2).all()            # per example, up to the 500-code average's noise


@pytest.mark.parametrize("name", MODELS)
def test_iwae_with_one_sample_is_the_elbo(name):
    model, (x, labels) = _model(name), _digits()
    y = _y(model, labels)
    with torch.no_grad():
        one = log_weights(model, x, 1, torch.Generator().manual_seed(2), y=y)[0]        # (B,)
        terms = model(x, generator=torch.Generator().manual_seed(2), y=y)
        if not model.kl_in_closed_form:       # the KL estimated at the same code: the same number
            torch.testing.assert_close(one, terms.recon - terms.kl[:, 0], rtol=0, atol=1e-4)
            return
        # the closed-form KL is the expectation of log q - log p: equal on average over the same codes
        draws = log_weights(model, x, 4000, torch.Generator().manual_seed(3), y=y)                # (S, B)
        recon, kl = elbo(model, x, torch.Generator().manual_seed(3), q=model.encode(x, y), samples=4000, y=y)
    se = draws.std(0) / math.sqrt(4000)
    assert ((draws.mean(0) - (recon - kl.sum(-1))).abs() < 5 * se).all()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("registry")
    return {name: (fit(cfg, root / name)[0], root / name) for name, cfg in MODELS.items()}


@pytest.mark.parametrize("name", MODELS)
def test_a_resumed_run_has_the_uninterrupted_run_s_weights(name, trained, tmp_path):
    _, full = trained[name]
    fit(replace(MODELS[name], epochs=1), tmp_path / "run")
    fit(MODELS[name], tmp_path / "run", resume=True)
    want, got = vaekit.load(full).state_dict(), vaekit.load(tmp_path / "run").state_dict()
    assert want.keys() == got.keys()
    for key in want:
        assert torch.equal(want[key], got[key]), key


def test_vaekit_eval_reports_every_model(trained):
    jobs = {name: subprocess.Popen([sys.executable, "-m", "vaekit", "eval", str(run), "--k", "50", "--json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, (_, run) in trained.items()}
    for name, job in jobs.items():
        out, err = job.communicate(timeout=180)
        assert job.returncode == 0, (name, err)
        report, model = json.loads(out), trained[name][0]
        assert report["log_px"] >= report["elbo"] - 0.5 and math.isfinite(report["log_px_se"]), name
        assert report["latent_dim"] == model.latent_dim, name
        assert (report["kl_per_dim"] == []) == (not model.kl_in_closed_form), name
        assert report["conditioned_on"] == ("label" if name == "conditional" else None), name


@pytest.mark.parametrize("names", [("standard", "vamp"), ("mog", "iaf"), ("conditional", "two-layer")], ids="-".join)
def test_vaekit_serve_explores_every_model(names, trained):
    """Two runs side by side; a two-layer model's explored code is z1, the code its decoder reads."""
    with Server([trained[n][1] for n in names]) as server:   # serve shows one or two runs side by side
        def post(route, body, raw=False):
            request = urllib.request.Request(server.url + route, json.dumps(body).encode(),
                                             {"Content-Type": "application/json"})
            answer = urllib.request.urlopen(request, timeout=30).read()
            return answer if raw else json.loads(answer)
        info = json.load(urllib.request.urlopen(server.url + "api/info", timeout=30))
        assert [(m["prior"], m["posterior"], m["latent_dim"]) for m in info["models"]] == [
            (MODELS[n].prior, MODELS[n].posterior, 3) for n in names]
        assert [(m["condition"], m["classes"]) for m in info["models"]] == [
            (MODELS[n].condition, 10 if MODELS[n].condition == "label" else None) for n in names]
        assert [(m["stochastic_layers"], m["latent2"]) for m in info["models"]] == [
            (MODELS[n].stochastic_layers, MODELS[n].latent2) for n in names]
        label = int(vaekit.data.load("digits", "test").labels[0])
        for i, name in enumerate(names):
            y = {"label": label} if MODELS[name].condition == "label" else {}   # a conditional model's class
            code = post("api/encode", {"model": i, "index": 0})                  # a test image: its own label
            assert code["y"] == y.get("label"), name
            assert len(code["m"]) == 3 and code["reconstruction"].startswith("data:image/png")
            assert post("api/decode", {"model": i, "z": code["m"], **y}, raw=True).startswith(b"\x89PNG")
            score = post("api/score", {"model": i, "index": 0, "k": 20, **y})
            assert score["log_px"] >= score["elbo"] - 1.0 and math.isfinite(score["kl"]), name
            assert (score["kl_per_dim"] is None) == (name not in ("standard", "conditional")), name
            ends = {"a": {"index": 0}, "b": {"index": 1}}
            for code in ("mean", "sample"):
                strip = post("api/interpolate", {"model": i, **ends, "steps": 3, "code": code, **y}, raw=True)
                assert strip.startswith(b"\x89PNG"), (name, code)
            drawn = post("api/sample", {"model": i, "n": 4, "seed": 3, "label": label} if y else
                         {"model": i, "n": 4, "seed": 3}, raw=True)
            assert drawn.startswith(b"\x89PNG"), name


@pytest.mark.parametrize("name", ["vamp", "mog", "two-layer"])
def test_the_explorers_samples_are_draws_from_the_models_own_prior(name, trained):
    """Not N(0, I) codes: the VampPrior's, the mixture's, z2 ~ N(0, I) then z1 ~ p(z1|z2)."""
    model, run = trained[name]
    explorer = Explorer([run])
    try:
        drawn = explorer.sample(0, 6, seed=5)
        with torch.no_grad(), explorer.models[0].model.fixed_prior():
            z = explorer.models[0].model.prior.sample(6, torch.Generator().manual_seed(5))
            want = explorer.models[0].model.decode(z).mean
            plain = explorer.models[0].model.decode(torch.randn(6, model.latent_dim,
                                                                generator=torch.Generator().manual_seed(5))).mean
        assert torch.allclose(drawn, want, atol=1e-6)
        assert not torch.allclose(drawn, plain, atol=1e-3)
    finally:
        explorer.close()
