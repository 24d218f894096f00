import torch

from vaekit.models import ModelConfig, build_model
from vaekit.objectives.fused import ElboStep
from vaekit.train.optim import make_optimizer, step_function


def _train(steps: int, direct: bool, lr_after: float | None = None):
    model = build_model(ModelConfig(image_shape=(1, 6, 5), hidden=(16,), latent=3), seed=2)
    opt = make_optimizer(model, 1e-2)
    elbo = ElboStep(model)
    x = (torch.rand(steps, 9, 1, 6, 5, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    gen = torch.Generator().manual_seed(1)
    step = step_function(opt) if direct else opt.step
    for i in range(steps):
        if lr_after is not None and i == steps // 2:   # a new epoch: new lr, new step function
            opt.param_groups[0]["lr"] = lr_after
            step = step_function(opt) if direct else opt.step
        elbo(x[i], 1.0, gen)
        step()
    return model, opt


def test_direct_adam_step_matches_optimizer_step_bit_for_bit():
    for lr_after in (None, 3e-3):
        (m1, o1), (m2, o2) = _train(6, direct=False, lr_after=lr_after), _train(6, direct=True, lr_after=lr_after)
        for p, q in zip(m1.parameters(), m2.parameters()):
            assert torch.equal(p, q)
        s1, s2 = o1.state_dict()["state"], o2.state_dict()["state"]
        for i in s1:   # the checkpointed state (step counts, moments) is the same too
            for k in ("step", "exp_avg", "exp_avg_sq"):
                assert torch.equal(s1[i][k], s2[i][k]), (i, k)


def test_direct_adam_step_falls_back_to_optimizer_step():
    model = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(8,), latent=2), seed=0)
    ElboStep(model)(torch.ones(3, 1, 4, 4), 1.0, torch.Generator().manual_seed(0))
    calls = []
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    sgd.register_step_post_hook(lambda *a: calls.append("sgd"))
    adam = make_optimizer(model, 1e-3)
    adam.register_step_post_hook(lambda *a: calls.append("adam"))   # hooks must keep running
    for opt in (sgd, adam):
        step = step_function(opt)
        step(), step()
    assert calls == ["sgd", "sgd", "adam", "adam"]
