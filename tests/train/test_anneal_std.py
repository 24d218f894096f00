"""--anneal-std F0,F1 --anneal-std-epochs N: its schedule, its errors, and a run that resumes bit for bit."""

import json
import math

import pytest
import torch

import vaekit
from vaekit.cli.main import main
from vaekit.errors import ConfigError
from vaekit.train import TrainConfig
from vaekit.train.loop import annealed_std

RECIPE = dict(data="spiral", objective="iwae", k=4, anneal_std=(0.3, 0.02), anneal_std_epochs=4)


def test_f_falls_geometrically_from_f0_to_f1_then_switches_off():
    cfg = TrainConfig(**RECIPE)
    steps = 10
    assert annealed_std(cfg, 1, 0, steps) == 0.3
    assert annealed_std(cfg, 3, 0, steps) == pytest.approx(math.sqrt(0.3 * 0.02))   # halfway: the geometric mean
    assert annealed_std(cfg, 2, 5, steps) == pytest.approx(0.3 * (0.02 / 0.3) ** (1.5 / 4))
    assert annealed_std(cfg, 4, 9, steps) == pytest.approx(0.3 * (0.02 / 0.3) ** (3.9 / 4))   # the last step with f
    assert annealed_std(cfg, 4, 9, steps) > 0.02
    assert annealed_std(cfg, 5, 0, steps) is None and annealed_std(cfg, 50, 3, steps) is None   # the model's own
    by_epoch = [annealed_std(cfg, epoch, 0, steps) for epoch in range(1, 6)]
    assert all(a > b for a, b in zip(by_epoch[:3], by_epoch[1:4]))
    assert annealed_std(TrainConfig(data="spiral", objective="iwae"), 1, 0, steps) is None   # off by default


@pytest.mark.parametrize("settings, match", [
    (dict(anneal_std="0.3"), "anneal_std must be two numbers F0,F1 with F0 >= F1 > 0, e.g. 0.3,0.02; got '0.3'"),
    (dict(anneal_std="0.02,0.3"), "F0 >= F1 > 0, e.g. 0.3,0.02; got '0.02,0.3'"),
    (dict(anneal_std="0.3,0"), "got '0.3,0'"),
    (dict(anneal_std="0.3,x"), "got '0.3,x'"),
    (dict(anneal_std=[0.3, math.inf]), "got '0.3,inf'"),
    (dict(anneal_std_epochs=-1), "anneal_std_epochs must be an integer >= 0; got -1"),
    (dict(anneal_std=(), anneal_std_epochs=4), "anneal_std_epochs=4 would be ignored: it is the length of "
                                               "anneal_std's schedule; give anneal_std too"),
    (dict(anneal_std=(), anneal_std_epochs=0, anneal_k=16), "anneal_k=16 would be ignored: it is the k of "
                                                            "anneal_std's epochs; give anneal_std too"),
    (dict(anneal_k=-2), "anneal_k must be an integer >= 0; got -2"),
    (dict(anneal_std_epochs=0), "anneal_std needs anneal_std_epochs, the epochs over which f falls from 0.3 to "
                                "0.02 (e.g. 40); got 0"),
    (dict(objective="elbo", k=1), "anneal_std needs objective iwae"),
    (dict(data="digits"), "anneal_std needs likelihood gaussian: it stands in for a Gaussian decoder's variance, "
                          "and a Bernoulli p(x|z) has none; got 'auto' (bernoulli for digits)"),
    (dict(likelihood="bernoulli"), "a Bernoulli p(x|z) has none; got 'bernoulli'"),
    (dict(model="ae", objective="elbo", k=1), "anneal_std=0.3,0.02 would be ignored: a plain autoencoder (model=ae)"),
])
def test_refused_where_it_cannot_apply(settings, match):
    with pytest.raises(ConfigError, match=match.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        TrainConfig(**{**RECIPE, **settings})


def test_the_cli_says_so_in_one_line(tmp_path, capsys):
    code = main(["train", "--data", "spiral", "--anneal-std", "0.3", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "--anneal-std must be two numbers F0,F1 with F0 >= F1 > 0, e.g. 0.3,0.02; got '0.3'" in err
    assert not (tmp_path / "r" / "checkpoint.json").exists()


def _train(out, epochs, *more):
    return main(["train", "--data", "spiral", "--hidden", "16,16", "--latent", "1", "--batch-size", "500",
                 "--objective", "iwae", "--k", "4", "--anneal-std", "0.3,0.02", "--anneal-std-epochs", "3",
                 "--epochs", str(epochs), "--log-px-every", "0", "--device", "cpu", "--threads", "1",
                 "--out", str(out), *more])


def test_saved_in_config_json_and_resumed_bit_for_bit(tmp_path, capsys):
    """Stopped at epoch 2 (f still on), resumed to 4 (f off from epoch 4): the weights of one run of 4 epochs."""
    assert _train(tmp_path / "full", 4) == 0
    assert _train(tmp_path / "split", 2) == 0
    saved = json.loads((tmp_path / "split" / "config.json").read_text())["fit"]
    assert saved["anneal_std"] == [0.3, 0.02] and saved["anneal_std_epochs"] == 3
    assert _train(tmp_path / "split", 4, "--resume") == 0
    capsys.readouterr()
    full, split = vaekit.load(tmp_path / "full").state_dict(), vaekit.load(tmp_path / "split").state_dict()
    assert full.keys() == split.keys()
    for name in full:
        assert torch.equal(full[name], split[name]), name


def test_anneal_k_is_the_k_of_the_annealed_epochs_only(monkeypatch):
    """--k 8 --anneal-k 2: the bound under f draws 2 codes per example while f is on, the plain IWAE bound 8 after."""
    import vaekit.train.loop as loop

    seen = []
    for name in ("negative_iwae_fixed_std", "negative_iwae"):
        real = getattr(loop, name)
        monkeypatch.setattr(loop, name, lambda model, x, k, *rest, _real=real, _name=name:
                            seen.append((_name, k)) or _real(model, x, k, *rest))
    cfg = TrainConfig(**{**RECIPE, "k": 8, "anneal_k": 2, "anneal_std_epochs": 1, "epochs": 2, "hidden": (8,),
                         "latent": 1, "batch_size": 5000, "log_px_every": 0, "threads": 1})
    vaekit.train.fit(cfg)
    assert sorted(set(seen)) == [("negative_iwae", 8), ("negative_iwae_fixed_std", 2)]


def test_codes_per_example_names_the_larger_k():
    """What the memory check and the lecture's start order count: the most codes a step draws, and whose."""
    assert TrainConfig(**RECIPE).codes_per_example() == (4, "k")
    assert TrainConfig(**{**RECIPE, "anneal_k": 32}).codes_per_example() == (32, "anneal_k")
    assert TrainConfig(**{**RECIPE, "anneal_k": 2}).codes_per_example() == (4, "k")
    assert TrainConfig(data="spiral").codes_per_example() == (1, "k")
