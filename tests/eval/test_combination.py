"""Non-negative blends of the nearest training images: NNLS against a brute-force search over
supports, the k-nearest search against a full sort, and residuals of known blends."""

import itertools

import numpy as np
import torch

from vaekit.eval.combination import blend_residuals, k_nearest, nnls_residual


def brute_force_nnls(query: np.ndarray, basis: np.ndarray) -> float:
    """min over w >= 0 of ‖query − basis·w‖ by trying every support: the optimum is the unconstrained
    least-squares fit on its own support (KKT), so the best feasible support's fit is it."""
    best = np.linalg.norm(query)                                         # the empty support, w = 0
    for size in range(1, basis.shape[1] + 1):
        for support in itertools.combinations(range(basis.shape[1]), size):
            a = basis[:, support]
            w, *_ = np.linalg.lstsq(a, query, rcond=None)
            if (w >= -1e-12).all():
                best = min(best, np.linalg.norm(query - a @ w))
    return best


def test_nnls_matches_brute_force_on_small_cases():
    rng = np.random.default_rng(0)
    for _ in range(40):
        d, k = rng.integers(3, 9), rng.integers(1, 6)
        basis, query = rng.normal(size=(d, k)), rng.normal(size=d)
        w, norm = nnls_residual(query, basis)
        assert (w >= 0).all()
        assert np.isclose(norm, np.linalg.norm(query - basis @ w))
        assert np.isclose(norm, brute_force_nnls(query, basis), atol=1e-9)


def test_k_nearest_is_a_full_sort():
    g = torch.Generator().manual_seed(1)
    refs = torch.rand(300, 1, 4, 4, generator=g)
    queries = torch.rand(7, 1, 4, 4, generator=g)
    got = k_nearest(queries, refs, 10, ref_chunk=64)                     # several chunks
    want = torch.cdist(queries.flatten(1).double(), refs.flatten(1).double()).argsort(1)[:, :10]
    assert torch.equal(got, want)


def test_a_blend_of_training_images_has_no_residual_and_a_new_image_has_one():
    g = torch.Generator().manual_seed(2)
    train = torch.rand(50, 1, 6, 6, generator=g)
    blend = 0.6 * train[3] + 0.3 * train[17]                             # non-negative: exactly a blend
    outside = 1 - train[5]                                               # not a blend of anything near
    residuals, weights = blend_residuals(torch.stack([blend, train[8], outside]), train, k=10)
    assert residuals[0] < 1e-7 and residuals[1] < 1e-7                   # a training image is its own blend
    assert residuals[2] > 0.05
    assert weights.shape == (3, 10) and (weights >= 0).all()
