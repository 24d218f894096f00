import pytest
import torch
from torch import nn

from vaekit.data.transforms import TrainingBatches
from vaekit.errors import ConfigError
from vaekit.models import ModelConfig, build_model
from vaekit.objectives import negative_elbo
from vaekit.train import TrainConfig
from vaekit.train.handwritten_step import HandWrittenMLPElboStep, handwritten_step_reason
from vaekit.train.loop import train_epoch
from vaekit.train.optim import make_optimizer

SMALL = dict(image_shape=(1, 6, 5), hidden=(16,), latent=3)


@pytest.mark.parametrize("hidden, beta", [((32,), 1.0), ((48, 24), 0.3), ((16, 16, 8), 2.0)])
def test_handwritten_step_matches_autograd(hidden, beta):
    cfg = ModelConfig(image_shape=(1, 6, 5), hidden=hidden, latent=3)
    fast, ref = build_model(cfg, seed=1), build_model(cfg, seed=1)
    with torch.no_grad():   # larger weights so the ReLU masks and the KL matter
        for p, q in zip(fast.parameters(), ref.parameters()):
            p.mul_(3), q.mul_(3)
    x = (torch.rand(17, 1, 6, 5, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    step = HandWrittenMLPElboStep(fast)
    step(x[:5], beta, torch.Generator().manual_seed(3))   # fills the reused buffers: other batch size, β
    step(x, 1.0, torch.Generator().manual_seed(3))
    fast.zero_grad(set_to_none=True)                      # the step rebinds .grad
    total = step(x, beta, torch.Generator().manual_seed(7))
    loss, _, _ = negative_elbo(ref, x, beta, torch.Generator().manual_seed(7))
    (loss.sum() / len(x)).backward()
    torch.testing.assert_close(total, loss.sum(), rtol=1e-5, atol=1e-4)
    for (name, p), q in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)


def test_reason_reads_the_settings_and_the_model():
    assert handwritten_step_reason(build_model(ModelConfig(**SMALL)), "elbo", 0.0) is None
    assert "'iwae'" in handwritten_step_reason(build_model(ModelConfig(**SMALL)), "iwae", 0.0)
    assert "free_bits is 0.5" in handwritten_step_reason(build_model(ModelConfig(**SMALL)), "elbo", 0.5)
    assert "kind 'ae'" in handwritten_step_reason(build_model(ModelConfig(kind="ae", **SMALL)), "elbo", 0.0)
    gaussian = build_model(ModelConfig(likelihood="gaussian", **SMALL))
    assert "'gaussian'" in handwritten_step_reason(gaussian, "elbo", 0.0)
    conv = build_model(ModelConfig(arch="conv", image_shape=(1, 8, 8), hidden=(8,), latent=2))
    assert handwritten_step_reason(conv, "elbo", 0.0) == "the encoder is a ConvEncoder, not an MLPEncoder"


def _with_layer_norm():
    model = build_model(ModelConfig(**SMALL), seed=0)
    lin, relu, out = model.encoder.net
    model.encoder.net = nn.Sequential(lin, nn.LayerNorm(16), relu, out)
    return model


def test_reason_sees_changes_the_config_does_not_show():
    assert handwritten_step_reason(_with_layer_norm(), "elbo", 0.0).startswith(
        "encoder.net.1 is LayerNorm where the step needs ReLU")
    tanh = build_model(ModelConfig(**SMALL))
    tanh.decoder.net[1] = nn.Tanh()
    assert handwritten_step_reason(tanh, "elbo", 0.0).startswith("decoder.net.1 is Tanh where the step needs ReLU")
    no_bias = build_model(ModelConfig(**SMALL))
    no_bias.decoder.net[2] = nn.Linear(16, 30, bias=False)
    assert handwritten_step_reason(no_bias, "elbo", 0.0) == "decoder.net.2 lacks a weight or bias parameter"
    weight_norm = build_model(ModelConfig(**SMALL))
    nn.utils.parametrizations.weight_norm(weight_norm.encoder.net[0])   # the module's class changes
    assert handwritten_step_reason(weight_norm, "elbo", 0.0).startswith("encoder.net.0 is ParametrizedLinear")
    extra = build_model(ModelConfig(**SMALL))
    extra.prior_net = nn.Linear(3, 3)
    assert handwritten_step_reason(extra, "elbo", 0.0) == (
        "the model holds modules besides its two MLPs: prior_net")
    tied = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(16, 16), latent=2))
    tied.decoder.net[2].weight = tied.encoder.net[2].weight   # both 16 x 16
    assert handwritten_step_reason(tied, "elbo", 0.0) == "some layers share a weight or bias (tied parameters)"
    frozen = build_model(ModelConfig(**SMALL))
    frozen.encoder.net[0].bias.requires_grad_(False)
    assert handwritten_step_reason(frozen, "elbo", 0.0) == (
        "some parameters do not require gradients: encoder.net.0.bias")
    with pytest.raises(ValueError, match="does not apply to this model: encoder.net.1 is LayerNorm"):
        HandWrittenMLPElboStep(_with_layer_norm())


def _train(model, fast_path: str, epochs: int = 2):
    images = torch.randint(0, 256, (40, 1, 6, 5), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    cfg = TrainConfig(batch_size=16, epochs=epochs, fast_path=fast_path, warmup_epochs=1)
    opt = make_optimizer(model, 1e-2)
    gen = torch.Generator().manual_seed(1)
    batches = TrainingBatches(images, "bernoulli")
    losses = [train_epoch(model, opt, batches, cfg, epoch, gen).train_loss for epoch in range(1, epochs + 1)]
    return model, losses


def test_fast_path_on_and_off_train_alike():
    start = build_model(ModelConfig(**SMALL), seed=2)
    (on, loss_on), (off, loss_off) = (_train(build_model(ModelConfig(**SMALL), seed=2), mode) for mode in ("on", "off"))
    assert loss_on == pytest.approx(loss_off, rel=1e-5)
    for (name, p), q, p0 in zip(on.named_parameters(), off.parameters(), start.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=name)
        assert (p - p0).abs().max() > 1e-3, name   # six Adam steps of 1e-2 moved every parameter


def test_structurally_different_model_falls_back_to_autograd_or_refuses():
    (auto, loss_auto), (off, loss_off) = _train(_with_layer_norm(), "auto"), _train(_with_layer_norm(), "off")
    assert loss_auto == loss_off   # the same autograd arithmetic, so bit for bit
    for p, q in zip(auto.parameters(), off.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ConfigError, match="fast_path is 'on', but the hand-written step does not apply: "
                                          "encoder.net.1 is LayerNorm") as e:
        _train(_with_layer_norm(), "on", epochs=1)
    assert e.value.setting == "fast_path" and "\n" not in str(e.value)
