"""The log-space sums of the evaluation loop against torch's own, in float64."""

import pytest
import torch
import torch.nn.functional as F

from vaekit.models.logspace import block_size, logsumexp, softplus_sum


def spread_table(rows=300, k=500, seed=0):
    """log-densities as the VampPrior makes them: rows spanning hundreds of nats (most terms underflow)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, k, generator=g) * 200 - 300


def test_logsumexp_matches_torch_on_terms_that_underflow():
    a = spread_table()
    assert ((a - a.amax(-1, keepdim=True)) < -87).float().mean() > 0.9      # most terms take exp's slow path
    torch.testing.assert_close(logsumexp(a).double(), torch.logsumexp(a.double(), -1), rtol=1e-7, atol=1e-5)
    torch.testing.assert_close(logsumexp(a.T, dim=0), torch.logsumexp(a.T, 0), rtol=1e-7, atol=1e-5)
    narrow = torch.randn(4, 3, 7)                                             # no clamping at all
    torch.testing.assert_close(logsumexp(narrow), torch.logsumexp(narrow, -1))


def test_logsumexp_keeps_infinities_and_nan_as_torch_does():
    inf = float("inf")
    a = torch.tensor([[-inf, -inf, -inf], [0.0, -inf, 1.0], [inf, 0.0, 1.0], [float("nan"), 0.0, 1.0]])
    out, ref = logsumexp(a), torch.logsumexp(a, -1)
    assert out[0] == -inf and out[2] == inf and torch.isnan(out[3])
    torch.testing.assert_close(out[1], ref[1])


def test_logsumexp_gradient_is_the_softmax():
    a = (spread_table(rows=20, k=30, seed=1) / 100).double().requires_grad_()
    logsumexp(a).sum().backward()
    torch.testing.assert_close(a.grad, torch.softmax(a.detach(), -1))


@pytest.mark.parametrize("d", [784, 560, 13, 67])    # MNIST, Frey; a prime below and above the block limit
def test_softplus_sum_matches_softplus_over_logits_of_every_size(d):
    g = torch.Generator().manual_seed(d)
    l = torch.randn(40, 25, d, generator=g) * 60 - 20                        # background logits to -200, some > 80
    with torch.no_grad():
        out = softplus_sum(l)
    assert out.shape == (40, 25)
    torch.testing.assert_close(out.double(), F.softplus(l.double()).sum(-1), rtol=1e-6, atol=2e-3)
    assert torch.isfinite(softplus_sum(torch.full((2, d), -1e4))).all()      # exp underflow: 0, not NaN
    torch.testing.assert_close(softplus_sum(torch.full((2, d), 1e4)), torch.full((2,), 1e4 * d))


def test_softplus_sum_keeps_the_gradient_of_softplus():
    l = torch.randn(6, 784, dtype=torch.float64, requires_grad=True)
    softplus_sum(l).sum().backward()
    torch.testing.assert_close(l.grad, torch.sigmoid(l.detach()))
    with torch.no_grad():                                                     # the in-place path, same value
        torch.testing.assert_close(softplus_sum(l), F.softplus(l).sum(-1))


def test_block_size_divides_and_bounds_the_product():
    assert block_size(784) == 56 and block_size(67) == 1 and block_size(64) == 64 and block_size(3072) == 64
    assert all(d % block_size(d) == 0 and block_size(d) <= 64 for d in range(1, 400))


def test_overwrite_gives_the_same_sums_on_the_callers_own_tensor_and_never_when_a_gradient_needs_it():
    """``overwrite``: the evaluation's in-place variant, bit for bit the plain one; with a gradient, plain."""
    table = spread_table(rows=50, k=40, seed=2)
    logits = torch.randn(30, 784, generator=torch.Generator().manual_seed(3)) * 60 - 20
    with torch.no_grad():
        for fn, a in ((logsumexp, table), (softplus_sum, logits)):
            own = a.clone()
            assert torch.equal(fn(own, overwrite=True), fn(a))
            assert not torch.equal(own, a)                                    # the caller's temporary was used
    a = table.double().requires_grad_()
    logsumexp(a, overwrite=True).sum().backward()
    torch.testing.assert_close(a.grad, torch.softmax(a.detach(), -1))
    l = logits[:4].double().requires_grad_()
    softplus_sum(l, overwrite=True).sum().backward()
    torch.testing.assert_close(l.grad, torch.sigmoid(l.detach()))
