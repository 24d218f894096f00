import pytest

from vaekit.errors import ConfigError
from vaekit.train import TrainConfig, make_config
from vaekit.train.loop import kl_weight


def test_kl_warmup_ramps_linearly_to_beta():
    cfg = TrainConfig(beta=2.0, warmup_epochs=4)
    steps = 10
    assert kl_weight(cfg, 1, 0, steps) == 0.0
    assert kl_weight(cfg, 1, 5, steps) == pytest.approx(2.0 * 0.5 / 4)
    assert kl_weight(cfg, 3, 0, steps) == pytest.approx(1.0)
    assert kl_weight(cfg, 5, 0, steps) == 2.0 and kl_weight(cfg, 50, 3, steps) == 2.0
    assert kl_weight(TrainConfig(beta=0.5), 1, 0, steps) == 0.5


def test_config_layers_and_errors(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[train]\nlatent = 7\nhidden = "64,32"\nlr = 0.01\n')
    cfg = make_config(toml, lr=0.5)
    assert cfg.latent == 7 and cfg.hidden == (64, 32) and cfg.lr == 0.5
    toml.write_text('latent = "seven"\n')
    with pytest.raises(ConfigError, match="--latent must be a positive integer; got 'seven'"):
        make_config(toml)
    toml.write_text("latent = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        make_config(toml)
    with pytest.raises(ConfigError, match="config file not found"):
        make_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="--objective iwae needs --model vae"):
        TrainConfig(objective="iwae", model="ae")
    assert TrainConfig(data="frey").resolved_likelihood() == "gaussian"
    assert TrainConfig().resolved_likelihood() == "bernoulli"


def test_cosine_learning_rate_schedule():
    from vaekit.train.loop import learning_rate

    cfg = TrainConfig(lr=0.01, epochs=4, lr_schedule="cosine")
    assert [round(learning_rate(cfg, e), 6) for e in (1, 2, 3, 4)] == [0.01, 0.008536, 0.005, 0.001464]
    assert learning_rate(TrainConfig(lr=0.01), 3) == 0.01
    with pytest.raises(ConfigError, match="--lr-schedule must be one of constant, cosine; got 'step'"):
        TrainConfig(lr_schedule="step")
