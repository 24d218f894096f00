import torch

from vaekit.models import ModelConfig, build_model
from vaekit.train.optim import make_optimizer


def _model():
    return build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2), seed=0)


def test_make_optimizer_is_fused_adam():
    opt = make_optimizer(_model(), 3e-3)
    assert type(opt) is torch.optim.Adam
    group = opt.param_groups[0]
    assert group["fused"] and group["lr"] == 3e-3 and len(group["params"]) == 8


def test_make_optimizer_falls_back_without_the_fused_kernel(monkeypatch):
    real_adam = torch.optim.Adam

    def adam_without_fused(params, **kwargs):   # as a build without fused CPU Adam answers
        if kwargs.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
        return real_adam(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", adam_without_fused)
    group = make_optimizer(_model(), 1e-3).param_groups[0]
    assert group["foreach"] and not group["fused"]
