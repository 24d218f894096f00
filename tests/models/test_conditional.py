"""The conditional VAE (``--condition label``): q(z|x, y) and p(x|z, y), y each image's class."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import vaekit
from vaekit.errors import ConfigError, VaekitError
from vaekit.models import ModelConfig, build_model
from vaekit.train import TrainConfig, fit

SHAPE = dict(image_shape=(1, 8, 8), hidden=(16,), latent=3)


def _digits(n=40):
    test = vaekit.data.load("digits", "test")
    return test.model_input("bernoulli")[:n], test.labels[:n]


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_with_the_label_input_zeroed_it_is_the_plain_vae(arch):
    """The plain VAE's weights, and zero weights on the label's inputs: every number is the plain VAE's,
    whatever y is."""
    extra = dict(arch=arch, conv_channels=(4, 8)) if arch == "conv" else {}
    plain = build_model(ModelConfig(**SHAPE, **extra), seed=0)
    cond = build_model(ModelConfig(**SHAPE, **extra, condition="label", classes=10), seed=1)
    with torch.no_grad():
        for (name, p), q in zip(plain.named_parameters(), cond.parameters()):
            q.zero_()
            q[tuple(slice(0, n) for n in p.shape)] = p          # the label's columns stay zero
    x, _ = _digits()
    y = torch.randint(0, 10, (len(x),), generator=torch.Generator().manual_seed(0))
    m0, v0 = plain.encode(x)
    m1, v1 = cond.encode(x, y)
    assert torch.equal(m0, m1) and torch.equal(v0, v1)
    torch.testing.assert_close(cond.decode(m1, y=y).mean, plain.decode(m0).mean, rtol=0, atol=0)
    a = plain(x, generator=torch.Generator().manual_seed(2))
    b = cond(x, generator=torch.Generator().manual_seed(2), y=y)
    assert torch.equal(a.recon, b.recon) and torch.equal(a.kl, b.kl)
    torch.testing.assert_close(cond.log_prob(x, k=50, generator=torch.Generator().manual_seed(3), y=y),
                               plain.log_prob(x, k=50, generator=torch.Generator().manual_seed(3)), rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("conditional") / "run"
    cfg = TrainConfig(data="digits", hidden=(64,), latent=4, condition="label", epochs=40, log_px_every=0,
                      lr=3e-3, seed=0)
    model, _ = fit(cfg, run)
    return model, run


def test_the_label_carries_what_the_code_need_not(trained):
    """log p(x|y) with each image's own class is far above log p(x|y') with a wrong one, and the draws of a
    class look like that class: nearer (mean squared error) to its own test images' mean than to others'."""
    model, _ = trained
    x, labels = _digits(200)
    with torch.no_grad():
        right = model.log_prob(x, k=100, generator=torch.Generator().manual_seed(0), y=labels)
        wrong = model.log_prob(x, k=100, generator=torch.Generator().manual_seed(0), y=(labels + 1) % 10)
        assert (right - wrong).mean() > 5.0
        draws = torch.stack([model.sample(50, torch.Generator().manual_seed(c), y=c).mean(0) for c in range(10)])
    class_means = torch.stack([x[labels == c].mean(0) for c in range(10)])
    distance = ((draws.unsqueeze(1) - class_means.unsqueeze(0)) ** 2).flatten(2).mean(-1)   # (draw class, class)
    assert torch.equal(distance.argmin(1), torch.arange(10))


def test_eval_reports_log_px_given_y_and_sample_draws_a_class(trained, tmp_path):
    _, run = trained
    r = subprocess.run([sys.executable, "-m", "vaekit", "eval", str(run), "--k", "20", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["conditioned_on"] == "label"
    out = tmp_path / "three.png"
    r = subprocess.run([sys.executable, "-m", "vaekit", "sample", str(run), "--label", "3", "--n", "8",
                        "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and out.read_bytes().startswith(b"\x89PNG"), r.stderr
    r = subprocess.run([sys.executable, "-m", "vaekit", "sample", str(run), "--label", "10", "--out",
                        str(tmp_path / "no.png")], capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stderr) == (2, "vaekit: error: class 10 is outside this model's labels, 0 to 9\n")
    assert not (tmp_path / "no.png").exists()


def test_the_python_api_asks_for_y_and_checks_it(trained):
    model, _ = trained
    x, labels = _digits(4)
    with pytest.raises(VaekitError, match="conditional on the class .* give y, each example's class, 0 to 9"):
        model.encode(x)
    with pytest.raises(VaekitError, match=r"class -1 is outside this model's labels, 0 to 9"):
        model.sample(2, y=-1)
    with pytest.raises(VaekitError, match=r"y must be 4 integer classes"):
        model.encode(x, labels[:3])
    plain = build_model(ModelConfig(**SHAPE), seed=0)
    with pytest.raises(VaekitError, match="not conditional"):
        plain.encode(torch.zeros(2, 1, 8, 8), torch.tensor([1, 2]))


def test_bad_conditions_are_one_line_errors(tmp_path):
    images = tmp_path / "images.npy"                    # a dataset without labels
    np.save(images, np.random.default_rng(0).integers(0, 256, (60, 8, 8), dtype=np.uint8))
    r = subprocess.run([sys.executable, "-m", "vaekit", "train", "--data", str(images), "--condition", "label",
                        "--epochs", "1", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("vaekit: error: --condition=label needs a dataset with labels")
    assert len(r.stderr.splitlines()) == 1 and not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="condition must be one of none, label"):
        TrainConfig(condition="class")
    with pytest.raises(ConfigError, match="the VampPrior's pseudo-inputs have no class"):
        TrainConfig(condition="label", prior="vamp")
    with pytest.raises(ConfigError, match="classes=3 would be ignored"):
        ModelConfig(**SHAPE, classes=3)
    with pytest.raises(ConfigError, match=r"classes must be an integer in \[2, 10000\]; got 1"):
        ModelConfig(**SHAPE, condition="label", classes=1)
