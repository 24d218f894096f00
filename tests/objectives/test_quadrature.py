"""log p(x) by quadrature over a 1-D code (``objectives.quadrature``), against known answers."""

import math

import pytest
import torch

from vaekit.errors import VaekitError
from vaekit.eval import log_px
from vaekit.models import ModelConfig, build_model
from vaekit.objectives.quadrature import log_px_quadrature


def _model(arch="mlp", likelihood="gaussian", dim=3, latent=1, seed=0, **extra):
    shape = (1, 1, dim) if likelihood == "gaussian" else (1, 2, 2)
    sizes = {} if arch == "linear" else {"hidden": (8,)}
    return build_model(ModelConfig(kind="vae", arch=arch, image_shape=shape, latent=latent,
                                   likelihood=likelihood, **sizes, **extra), seed=seed)


def test_linear_gaussian_known_answer():
    """A 1-D code decoded linearly, x = w z + b + ε (probabilistic PCA): p(x) is the Gaussian N(b, w wᵀ + s² I),
    exactly (``exact_log_prob``, and written out here)."""
    model = _model("linear", dim=3)
    with torch.no_grad():
        model.decoder.mean.weight.copy_(torch.tensor([[0.9], [-0.4], [0.2]]))
        model.decoder.mean.bias.copy_(torch.tensor([0.1, 0.3, -0.2]))
        model.decoder.log_var.fill_(math.log(0.05))
    x = torch.randn(50, 1, 1, 3, generator=torch.Generator().manual_seed(1)) * 0.8
    exact = model.exact_log_prob(x).double()
    by_hand = torch.distributions.MultivariateNormal(
        torch.tensor([0.1, 0.3, -0.2], dtype=torch.float64),
        torch.tensor([[0.9], [-0.4], [0.2]], dtype=torch.float64) @ torch.tensor([[0.9, -0.4, 0.2]],
                                                                                  dtype=torch.float64)
        + 0.05 * torch.eye(3, dtype=torch.float64)).log_prob(x.reshape(50, 3).double())
    assert torch.allclose(exact, by_hand, atol=1e-4)
    for product in (True, False):
        quad = log_px_quadrature(model, x, gaussian_product=product).double()
        assert torch.allclose(quad, exact, atol=2e-4), (product, (quad - exact).abs().max())


def test_gaussian_product_equals_the_plain_path():
    """The one-matrix-product form and the Distribution's own log_prob agree on a non-linear decoder,
    also where the decoder's variance is tiny (the expanded square's terms are then large)."""
    model = _model(dim=5)
    with torch.no_grad():
        model.decoder.net[-1].bias[5:] -= 6.0            # log-variances near −6: s ≈ 0.05
    x = torch.randn(300, 1, 1, 5, generator=torch.Generator().manual_seed(2))
    fast, plain = log_px_quadrature(model, x), log_px_quadrature(model, x, gaussian_product=False)
    assert torch.isfinite(fast).all()
    assert torch.allclose(fast, plain, rtol=1e-5, atol=1e-4)


def test_bernoulli_against_importance_sampling():
    """A Bernoulli decoder takes the plain path; many importance samples approach the same log p(x) from below."""
    model = _model(likelihood="bernoulli")
    x = torch.bernoulli(torch.full((20, 1, 2, 2), 0.4), generator=torch.Generator().manual_seed(3))
    quad = log_px_quadrature(model, x).double()
    sampled = log_px(model, x, k=20000, generator=torch.Generator().manual_seed(4)).double()
    assert (quad - sampled).abs().max() < 0.02
    assert (quad - sampled).mean() > -0.005                                 # the estimate is low on average


def test_converged_and_order_free():
    """Doubling the nodes moves nothing that matters, and each point's value is its own (blocks of points)."""
    model = _model(dim=4)
    x = torch.randn(40, 1, 1, 4, generator=torch.Generator().manual_seed(5))
    a = log_px_quadrature(model, x)
    assert torch.allclose(a, log_px_quadrature(model, x, nodes=8192), atol=1e-5)
    assert torch.allclose(a[7:9], log_px_quadrature(model, x[7:9]), atol=1e-6)
    assert log_px_quadrature(model, x[:0]).shape == (0,)


def test_the_integral_is_a_density():
    """∫ p(x) dx = 1: the quadrature density of a 1-D x, summed on a fine grid of x."""
    model = _model(dim=1)
    xs = torch.linspace(-12, 12, 6001).reshape(-1, 1, 1, 1)
    mass = log_px_quadrature(model, xs).double().exp().sum() * (24 / 6000)
    assert mass.item() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("extra, words", [
    (dict(latent=2), "1-D code"),
    (dict(condition="label", classes=3), "conditional"),
])
def test_refused(extra, words):
    model = _model(**extra)
    with pytest.raises(VaekitError, match=words):
        log_px_quadrature(model, torch.zeros(2, 1, 1, 3))


@pytest.mark.parametrize("kwargs", [dict(nodes=0), dict(bound=-1.0), dict(bound=math.inf)])
def test_bad_settings(kwargs):
    with pytest.raises(VaekitError):
        log_px_quadrature(_model(), torch.zeros(2, 1, 1, 3), **kwargs)
