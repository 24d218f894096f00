""""Only linear combinations of the database": how well an image is a non-negative blend of its
nearest training images.

For each query image x, its k nearest training images a_1..a_k (RMS pixel distance,
``k_nearest``) and the non-negative weights w that minimise ‖x − Σ_j w_j a_j‖² (non-negative
least squares, Lawson–Hanson's active-set method, ``scipy.optimize.nnls``).  The residual is
reported as an RMS pixel distance, sqrt(‖x − A w‖² / D), pixels in [0, 1]: 0 when x is exactly
such a blend.  A model that only blends its training images gives samples with smaller
residuals than new images of the same kind (held-out test images) have.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validate import positive_int
from .nearest import BLOCK, as_unit_float


@torch.no_grad()
def k_nearest(queries: torch.Tensor, refs: torch.Tensor, k: int, ref_chunk: int = 8192) -> torch.Tensor:
    """Indices (N, k) int64 into refs of each query's k nearest references, nearest first.

    queries (N, C, H, W), refs (M, C, H, W), uint8 or float in [0, 1]; k <= M.  Squared distances
    ‖q‖² + ‖r‖² − 2 q·r by matrix products, ``ref_chunk`` references at a time, keeping the
    running k smallest (float32; ties between references whose distances differ by less than
    its rounding may come out in either order).
    """
    positive_int("k", k)
    if queries.ndim != 4 or refs.ndim != 4 or queries.shape[1:] != refs.shape[1:]:
        raise ValueError(f"k_nearest: expected queries (N, C, H, W) and refs (M, C, H, W) of the same (C, H, W); "
                         f"got {tuple(queries.shape)} and {tuple(refs.shape)}")
    if k > len(refs):
        raise ValueError(f"k_nearest: k must be at most the {len(refs)} references; got {k}")
    device = queries.device
    q = as_unit_float(queries).flatten(1)                                        # (N, D)
    q_sq = (q * q).sum(1, keepdim=True)
    best = torch.full((len(q), k), float("inf"), device=device)                  # k smallest ‖q − r‖², (N, k)
    index = torch.zeros(len(q), k, dtype=torch.int64, device=device)
    q_chunk = max(1, BLOCK // min(ref_chunk, len(refs)))
    for r0 in range(0, len(refs), ref_chunk):
        r = as_unit_float(refs[r0:r0 + ref_chunk].to(device)).flatten(1)        # (R, D)
        r_sq = (r * r).sum(1)
        for q0 in range(0, len(q), q_chunk):
            part = slice(q0, q0 + q_chunk)
            sq = torch.addmm(r_sq[None, :], q[part], r.T, alpha=-2).add_(q_sq[part])       # (B, R)
            both = torch.cat([best[part], sq], 1)
            both_index = torch.cat([index[part], torch.arange(r0, r0 + len(r), device=device).expand(len(sq), -1)], 1)
            best[part], at = both.topk(k, dim=1, largest=False, sorted=True)
            index[part] = both_index.gather(1, at)
    return index


def nnls_residual(query: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, float]:
    """min over w >= 0 of ‖query − basis·w‖: query (D,), basis (D, k) float64 -> (w (k,), residual norm)."""
    from scipy.optimize import nnls

    w, norm = nnls(basis, query)
    return w, float(norm)


@torch.no_grad()
def blend_residuals(queries: torch.Tensor, train: torch.Tensor, k: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query's best non-negative blend of its k nearest training images.

    queries (N, C, H, W), train (M, C, H, W), uint8 or float in [0, 1].  Returns the residual RMS
    pixel distance (N,) float64 and the weights (N, k) float64 (in the order of ``k_nearest``).
    """
    index = k_nearest(queries, train, k).cpu()
    q = as_unit_float(queries).flatten(1).double().cpu().numpy()
    dims = q.shape[1]
    residuals, weights = np.empty(len(q)), np.empty((len(q), k))
    for i in range(len(q)):
        basis = as_unit_float(train[index[i].to(train.device)]).flatten(1).double().cpu().numpy().T    # (D, k)
        weights[i], norm = nnls_residual(q[i], basis)
        residuals[i] = norm / np.sqrt(dims)
    return torch.from_numpy(residuals), torch.from_numpy(weights)
