import pytest
import torch

from vaekit.models import ModelConfig, build_model
from vaekit.objectives import negative_elbo
from vaekit.objectives.fused import ElboStep, supports


@pytest.mark.parametrize("hidden, beta", [((32,), 1.0), ((48, 24), 0.3), ((16, 16, 8), 2.0)])
def test_fused_step_matches_autograd(hidden, beta):
    cfg = ModelConfig(image_shape=(1, 6, 5), hidden=hidden, latent=3)
    fused, ref = build_model(cfg, seed=1), build_model(cfg, seed=1)
    with torch.no_grad():   # larger weights so the ReLU masks and the KL matter
        for p, q in zip(fused.parameters(), ref.parameters()):
            p.mul_(3), q.mul_(3)
    x = (torch.rand(17, 1, 6, 5, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    step = ElboStep(fused)
    step(x[:5], beta, torch.Generator().manual_seed(3))   # fills the reused buffers: other batch size, β
    step(x, 1.0, torch.Generator().manual_seed(3))
    total = step(x, beta, torch.Generator().manual_seed(7))
    loss, _, _ = negative_elbo(ref, x, beta, torch.Generator().manual_seed(7))
    (loss.sum() / len(x)).backward()
    torch.testing.assert_close(total, loss.sum(), rtol=1e-5, atol=1e-4)
    for (name, p), q in zip(fused.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_supports_only_the_default_family():
    base = dict(image_shape=(1, 4, 4), hidden=(8,), latent=2)
    assert supports(build_model(ModelConfig(**base)), "elbo", 0.0)
    assert not supports(build_model(ModelConfig(**base)), "iwae", 0.0)
    assert not supports(build_model(ModelConfig(**base)), "elbo", 0.5)
    assert not supports(build_model(ModelConfig(kind="ae", **base)), "elbo", 0.0)
    assert not supports(build_model(ModelConfig(likelihood="gaussian", **base)), "elbo", 0.0)
    assert not supports(build_model(ModelConfig(arch="conv", **{**base, "image_shape": (1, 8, 8)})), "elbo", 0.0)
