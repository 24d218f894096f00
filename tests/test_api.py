"""The top-level Python API: ``import vaekit`` is light, its subpackages load on first use, and
``vaekit.load`` takes the CLI's device names."""

import subprocess
import sys

import pytest
import torch

import vaekit
from vaekit.errors import ConfigError
from vaekit.models import VAE, ModelConfig, build_model
from vaekit.rundir import RunDir


def fresh_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_vaekit_does_not_import_torch():
    out = fresh_python("import sys, vaekit; print('torch' in sys.modules, vaekit.__version__)")
    assert out.split() == ["False", vaekit.__version__]


def test_model_configs_import_no_torch():
    # what the CLI builds its flags from: reading a config must not cost a torch import
    out = fresh_python("import sys; from vaekit.models import ModelConfig, LIKELIHOODS; "
                       "print('torch' in sys.modules, ModelConfig().latent, LIKELIHOODS[0])")
    assert out.split() == ["False", "20", "bernoulli"]


@pytest.mark.parametrize("name", ["data", "models", "objectives", "eval", "train", "viz", "rundir", "errors"])
def test_subpackages_load_on_first_use(name):
    out = fresh_python(f"import sys, vaekit; loaded = {f'vaekit.{name}'!r} in sys.modules; m = vaekit.{name}; "
                       f"print(loaded, m.__name__, vaekit.{name} is m, {name!r} in dir(vaekit))")
    assert out.split() == ["False", f"vaekit.{name}", "True", "True"]


def test_data_load_from_a_bare_import():
    out = fresh_python("import vaekit; ds = vaekit.data.load('digits', 'val'); print(ds.images.shape[0])")
    assert out.split() == ["179"]


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match=r"^module 'vaekit' has no attribute 'nope'$"):
        vaekit.nope
    assert not hasattr(vaekit, "checkpoints")


@pytest.mark.parametrize("device", ["auto", "cpu", torch.device("cpu")])
def test_load_takes_the_cli_device_names(tmp_path, device):
    model = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2), seed=3)
    with RunDir.create(tmp_path / "run") as run:
        run.save_checkpoint(model, {"epoch": 1}, epoch=1)
    loaded = vaekit.load(tmp_path / "run", device=device)
    assert isinstance(loaded, VAE) and not loaded.training
    expected = "cuda" if device == "auto" and torch.cuda.is_available() else "cpu"
    for (name, p), q in zip(loaded.named_parameters(), model.parameters()):
        assert p.device.type == expected and torch.equal(p.cpu(), q), name
    with pytest.raises(ConfigError, match="must be one of auto, cpu, cuda; got 'tpu'"):
        vaekit.load(tmp_path / "run", device="tpu")
