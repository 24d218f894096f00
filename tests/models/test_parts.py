"""Known answers for the parts: the IAF posterior, the learned mixture prior, and ``refine_q`` on every prior."""

import math

import pytest
import torch

from vaekit.errors import ConfigError
from vaekit.eval.likelihood import log_px
from vaekit.eval.posterior import bounds_by_k, refine_q
from vaekit.models import ModelConfig, build_model
from vaekit.models.gaussian import log_standard_normal
from vaekit.models.posteriors import IAF
from vaekit.models.priors import MixturePrior
from vaekit.objectives import log_weights
from vaekit.objectives.elbo import elbo
from vaekit.train import TrainConfig

SHAPE = dict(image_shape=(1, 6, 6), hidden=(16,), latent=3)


def _binary(n=32, seed=1):
    return (torch.rand(n, 1, 6, 6, generator=torch.Generator().manual_seed(seed)) > 0.5).float()


def test_a_fresh_iaf_is_exactly_the_diagonal_posterior():
    """Zero-initialised steps: μ = 0, s = 2·sigmoid(0) = 1, log-determinant 0, so the same draws give the same
    codes, the same log q and the same importance weights as the diagonal Gaussian."""
    diag = build_model(ModelConfig(**SHAPE), seed=0)
    iaf = build_model(ModelConfig(**SHAPE, posterior="iaf", flow_steps=3), seed=0)
    assert isinstance(iaf.posterior, IAF) and len(iaf.posterior.steps) == 3
    for key, value in diag.state_dict().items():              # the networks start alike: built before the flow
        assert torch.equal(iaf.state_dict()[key], value), key
    x = _binary()
    m, log_var = diag.encode(x)
    a = diag.q(m, log_var).rsample(5, torch.Generator().manual_seed(2))
    b = iaf.q(m, log_var).rsample(5, torch.Generator().manual_seed(2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(log_weights(diag, x, 7, torch.Generator().manual_seed(3)),
                       log_weights(iaf, x, 7, torch.Generator().manual_seed(3)))


def test_an_iaf_step_is_autoregressive_with_its_log_determinant():
    """Perturbed steps: ∂z'/∂z is triangular (in the step's order), and log q through the flow equals the base
    density minus log |det J| computed by autograd."""
    model = build_model(ModelConfig(image_shape=(1, 6, 6), hidden=(16,), latent=4, posterior="iaf", flow_steps=2),
                        seed=0)
    with torch.no_grad():
        for p in model.posterior.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    z, h = torch.randn(4), torch.randn(8)
    for t, step in enumerate(model.posterior.steps):       # step 0 in the order 1..L, step 1 reversed
        jac = torch.autograd.functional.jacobian(lambda v: step(v, h)[0], z)
        above, below = jac.triu(1), jac.tril(-1)
        assert torch.equal(above if t == 0 else below, torch.zeros(4, 4))      # z'_l sees only earlier z
        assert (below if t == 0 else above).abs().sum() > 0                    # and does see them
        torch.testing.assert_close(step(z, h)[1], torch.linalg.slogdet(jac)[1])
    # the whole flow, one example: log q(z_K) = log N(z_0; m, σ) − Σ log |det|
    x = _binary(1)
    m, log_var = model.encode(x)
    q = model.q(m, log_var)
    z_k, log_q = q.rsample(generator=torch.Generator().manual_seed(0))
    e = torch.randn(m.shape, generator=torch.Generator().manual_seed(0))
    z0 = m + torch.exp(0.5 * log_var) * e
    flow = lambda v: model.posterior.steps[1](model.posterior.steps[0](v, torch.cat([m, log_var], -1)[0])[0],
                                              torch.cat([m, log_var], -1)[0])[0]
    torch.testing.assert_close(flow(z0[0]), z_k[0])
    base = torch.distributions.Normal(m, torch.exp(0.5 * log_var)).log_prob(z0).sum(-1)
    want = base - torch.linalg.slogdet(torch.autograd.functional.jacobian(flow, z0[0]))[1]
    torch.testing.assert_close(log_q, want, rtol=0, atol=1e-5)


def test_on_the_linear_gaussian_model_the_iaf_closes_the_gap_the_diagonal_leaves():
    """p fixed, with correlated posteriors (W not orthogonal); q trained by the ELBO alone.  The diagonal q
    keeps a gap log p(x) − ELBO > 0; the IAF's (it can correlate the code's coordinates) is smaller."""
    def fitted(posterior):
        extra = dict(posterior="iaf", flow_steps=2) if posterior == "iaf" else {}
        model = build_model(ModelConfig(arch="linear", image_shape=(1, 1, 6), latent=3, likelihood="gaussian",
                                        **extra), seed=0)
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            model.decoder.mean.weight.copy_(torch.randn(6, 3, generator=g))      # correlated posterior
            model.decoder.log_var.fill_(math.log(0.25))
        x = torch.randn(64, 1, 1, 6, generator=g) * 2
        params = [*model.encoder.parameters(), *model.posterior.parameters()]
        opt = torch.optim.Adam(params, lr=0.02)
        g = torch.Generator().manual_seed(1)
        for _ in range(250):
            recon, kl = elbo(model, x, g, samples=8)
            loss = -(recon - kl.sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            recon, kl = elbo(model, x, torch.Generator().manual_seed(2), samples=4000)
        return (model.exact_log_prob(x).double() - (recon - kl.sum(-1)).double()).mean().item()

    diag_gap, iaf_gap = fitted("diag"), fitted("iaf")
    assert diag_gap > 0.3                       # what no diagonal Gaussian can close
    assert -0.02 < iaf_gap < 0.2 * diag_gap      # the IAF closes most of it (1.20 -> 0.05 nats); a bound stays one


def test_a_one_component_standard_mixture_prior_is_the_standard_prior():
    standard = build_model(ModelConfig(**SHAPE), seed=0)
    mog = build_model(ModelConfig(**SHAPE, prior="mog", prior_components=1), seed=0)
    assert isinstance(mog.prior, MixturePrior)
    with torch.no_grad():
        mog.prior.means.zero_()
        mog.prior.log_vars.zero_()
    z = 2 * torch.randn(4, 9, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(mog.prior.log_prob(z), log_standard_normal(z), rtol=0, atol=1e-5)
    x = _binary()
    torch.testing.assert_close(log_px(mog, x, k=100, generator=torch.Generator().manual_seed(3)),
                               log_px(standard, x, k=100, generator=torch.Generator().manual_seed(3)),
                               rtol=0, atol=1e-4)


def test_the_mixture_prior_is_the_weighted_sum_of_its_components():
    mog = build_model(ModelConfig(**SHAPE, prior="mog", prior_components=5), seed=0)
    with torch.no_grad():
        mog.prior.logits.copy_(torch.randn(5, generator=torch.Generator().manual_seed(1)))
        mog.prior.log_vars.copy_(0.5 * torch.randn(5, 3, generator=torch.Generator().manual_seed(2)))
    z = torch.randn(7, 3, generator=torch.Generator().manual_seed(3)).double()
    p = mog.prior
    comp = torch.distributions.Normal(p.means.double(), torch.exp(0.5 * p.log_vars.double()))
    want = torch.logsumexp(torch.log_softmax(p.logits.double(), 0) + comp.log_prob(z.unsqueeze(1)).sum(-1), 1)
    torch.testing.assert_close(p.log_prob(z.float()).double(), want, rtol=0, atol=1e-4)
    draws = p.sample(20000, torch.Generator().manual_seed(4))          # the mixture's mean, from its draws
    mean = (torch.softmax(p.logits, 0)[:, None] * p.means).sum(0)
    assert (draws.mean(0) - mean).abs().max() < 0.05


@pytest.mark.parametrize("kind", ["vamp", "two-layer", "mog"])
def test_refine_q_raises_the_true_bound_of_every_prior_and_stays_below_log_px(kind):
    """refine_q maximises the model's own ELBO (its prior's KL, not N(0, I)'s): the refined bound, computed
    with the model's prior, rises above the encoder's and stays below the importance-sampled log p(x)."""
    extra = {"vamp": dict(prior="vamp", pseudo_inputs=5), "mog": dict(prior="mog", prior_components=4),
             "two-layer": dict(stochastic_layers=2, latent2=2, hidden2=(8,))}[kind]
    model = build_model(ModelConfig(**SHAPE, **extra), seed=0)
    x = _binary(24)

    def bound(q):
        recon, kl = elbo(model, x, torch.Generator().manual_seed(5), q=q, samples=2000)
        return recon - kl.sum(-1)

    with torch.no_grad():
        before = bound(model.encode(x))
    q = refine_q(model, x, steps=60, samples=8, lr=0.05, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        after = bound(q)
        # log p(x) importance-sampled with the refined q as the proposal (the encoder's is the poorer one)
        truth = bounds_by_k(model, x, (4000,), generator=torch.Generator().manual_seed(6), q=q)[4000]
    assert after.mean() > before.mean() + 0.1
    assert (after < truth + 0.02).all()


def test_bad_part_settings_are_one_line_errors_naming_the_setting():
    cases = [
        (dict(posterior="flow"), "posterior", "posterior must be one of diag, iaf; got 'flow'"),
        (dict(kind="ae", posterior="iaf", flow_steps=2), "posterior", "needs a VAE"),
        (dict(posterior="iaf", flow_steps=0), "flow_steps", r"flow_steps must be an integer in \[1, 64\]; got 0"),
        (dict(flow_steps=2), "flow_steps", "would be ignored"),
        (dict(prior="mog"), "prior_components", "prior_components must be a positive integer"),
        (dict(prior_components=3), "prior_components", "would be ignored"),
        (dict(prior="mog", prior_components=2, kind="ae"), "prior", "needs a VAE"),
        (dict(prior="vamp", pseudo_inputs=3, posterior="iaf", flow_steps=1), "posterior", "VampPrior"),
    ]
    for kwargs, setting, message in cases:
        with pytest.raises(ConfigError, match=message) as e:
            ModelConfig(**SHAPE, **kwargs)
        assert e.value.setting == setting, kwargs
    with pytest.raises(ConfigError, match="free_bits=0.5 cannot be charged with posterior=iaf"):
        TrainConfig(posterior="iaf", free_bits=0.5)
    with pytest.raises(ConfigError, match=r"flow_steps must be an integer in \[1, 64\]; got 1000000"):
        TrainConfig(posterior="iaf", flow_steps=10 ** 6)
