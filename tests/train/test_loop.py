import pytest
import torch

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
    with pytest.raises(ConfigError, match="latent must be a positive integer; got 'seven'"):
        make_config(toml)
    toml.write_text("latent = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        make_config(toml)
    with pytest.raises(ConfigError, match="config file not found"):
        make_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="objective=iwae would be ignored: a plain autoencoder"):
        TrainConfig(objective="iwae", model="ae")
    assert TrainConfig(data="frey").resolved_likelihood() == "gaussian"
    assert TrainConfig().resolved_likelihood() == "bernoulli"


def test_cosine_learning_rate_schedule():
    from vaekit.train.loop import learning_rate

    cfg = TrainConfig(lr=0.01, epochs=4, lr_schedule="cosine")
    assert [round(learning_rate(cfg, e), 6) for e in (1, 2, 3, 4)] == [0.01, 0.008536, 0.005, 0.001464]
    assert learning_rate(TrainConfig(lr=0.01), 3) == 0.01
    with pytest.raises(ConfigError, match="lr[-_]schedule must be one of constant, cosine; got 'step'"):
        TrainConfig(lr_schedule="step")


def test_flush_denormals_restores_the_callers_setting():
    from vaekit.device import flush_denormals, flushing_denormals

    before = flushing_denormals()
    try:
        for caller in (False, True):
            torch.set_flush_denormal(caller)
            assert flushing_denormals() is caller
            with flush_denormals("cpu"):
                assert flushing_denormals() and (torch.tensor([1e-39]) * 1.0).item() == 0.0
            assert flushing_denormals() is caller
            with flush_denormals(torch.device("meta")):   # not a CPU: left alone
                assert flushing_denormals() is caller
    finally:
        torch.set_flush_denormal(before)


def test_train_epoch_flushes_denormals_while_it_runs():
    from vaekit.data.transforms import TrainingBatches
    from vaekit.device import flushing_denormals
    from vaekit.models import ModelConfig, build_model
    from vaekit.train.loop import train_epoch
    from vaekit.train.optim import make_optimizer

    model = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2), seed=0)
    images = torch.randint(0, 256, (20, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    seen = []

    def progress(rows, epoch):   # runs inside the epoch's loop, step by step
        for row in rows:
            seen.append(flushing_denormals())
            yield row

    before = flushing_denormals()
    try:
        torch.set_flush_denormal(False)
        train_epoch(model, make_optimizer(model, 1e-3), TrainingBatches(images, "bernoulli"),
                    TrainConfig(batch_size=8), 1, torch.Generator().manual_seed(0), progress)
        assert seen == [True, True, True] and not flushing_denormals()
    finally:
        torch.set_flush_denormal(before)
