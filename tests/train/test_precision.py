"""--precision bf16: autocast in the training step, float32 evaluation, and clear refusals."""

import subprocess
import sys

import pytest
import torch

from vaekit.data import load
from vaekit.data.transforms import TrainingBatches
from vaekit.errors import ConfigError
from vaekit.models import ModelConfig, build_model
from vaekit.train import TrainConfig
from vaekit.train.loop import handwritten_step, train_epoch
from vaekit.train.optim import make_optimizer
from vaekit.train.run import check_bf16


def test_bf16_settings_are_checked():
    with pytest.raises(ConfigError, match="fast_path=on cannot train with precision=bf16"):
        TrainConfig(precision="bf16", fast_path="on")
    with pytest.raises(ConfigError, match="precision must be one of fp32, bf16; got 'fp16'"):
        TrainConfig(precision="fp16")
    cfg = TrainConfig(precision="bf16")
    assert handwritten_step(build_model(ModelConfig(image_shape=(1, 8, 8))), cfg) is None   # autograd under autocast


def test_a_cpu_without_bfloat16_instructions_is_refused(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    with pytest.raises(ConfigError, match="no bfloat16 instructions"):
        check_bf16(torch.device("cpu"), cpuinfo=info)
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    check_bf16(torch.device("cpu"), cpuinfo=info)                        # native: accepted
    check_bf16(torch.device("cpu"), cpuinfo=tmp_path / "missing")        # not Linux: taken at its word


def test_bf16_training_runs_the_products_in_bfloat16_and_learns_like_fp32():
    images = load("digits", "train").images
    losses, dtypes = {}, set()
    for precision in ("fp32", "bf16"):
        cfg = TrainConfig(data="digits", epochs=3, precision=precision, fast_path="off", hidden=(64,), latent=4)
        model = build_model(ModelConfig(image_shape=(1, 8, 8), hidden=(64,), latent=4), seed=0)
        if precision == "bf16":
            model.decoder.net[0].register_forward_hook(lambda m, i, out: dtypes.add(out.dtype))
        optimizer = make_optimizer(model, cfg.lr)
        g = torch.Generator().manual_seed(0)
        batches = TrainingBatches(images, "bernoulli")
        losses[precision] = [train_epoch(model, optimizer, batches, cfg, e, g).train_loss for e in (1, 2, 3)]
        assert all(p.dtype == torch.float32 for p in model.parameters())   # the weights stay float32
    assert dtypes == {torch.bfloat16}
    assert losses["bf16"][-1] < losses["bf16"][0]                          # it learns
    assert losses["bf16"][-1] == pytest.approx(losses["fp32"][-1], abs=1.0)   # bf16 rounds: close, not equal


def test_command_line_refusals_are_one_line_exit_2():
    for args, words in ((["--precision", "bf16", "--fast-path", "on"], "--fast-path=on cannot train with precision"),
                        (["--precision", "fp16"], "--precision must be one of fp32, bf16")):
        r = subprocess.run([sys.executable, "-m", "vaekit", "train", *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
