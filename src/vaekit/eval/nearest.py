"""Nearest images in pixel space: is a generated image new, or a copy of a training image?

Distances are RMS pixel distances, sqrt(mean over pixels of (a − b)²) with pixels in [0, 1]
(uint8 images are divided by 255): 0 for the same image, 1 between a black and a white one,
independent of the image size.

The search is chunked both ways, so a whole training set (MNIST: 50,000 × 784) is never
copied to float at once: for each chunk of references, ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b for
a chunk of queries by one matrix product (float32), keeping the running minimum.  The
distance reported is then recomputed exactly (float64) for the reference found; the float32
search can only choose between references whose squared distances differ by less than its
rounding (~1e-4 of a summed squared distance of order D = C·H·W).
"""

from __future__ import annotations

import torch

from ..validate import positive_int

# The (queries × references) block of squared distances held at once: 2^23 floats, 32 MB.
BLOCK = 1 << 23
# NearestIndex's block, 4 MB: a long-running server keeps what its allocator once held, and
# glibc keeps freed blocks of up to 32 MB in the heap instead of returning them.
SERVING_BLOCK = 1 << 20


def as_unit_float(images: torch.Tensor) -> torch.Tensor:
    """Images as float32 in [0, 1]: uint8 divided by 255, floats as they are; (N, C, H, W)."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a tensor; got {type(images).__name__}")
    return images.float() / 255 if images.dtype == torch.uint8 else images.float()


@torch.no_grad()
def rms_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise-aligned RMS pixel distance: a, b (N, C, H, W) uint8 or float in [0, 1] -> (N,) float32.

    sqrt(mean over the C·H·W pixels of (a − b)²), computed in float64.
    """
    if a.shape != b.shape:
        raise ValueError(f"rms_distance: a and b must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}")
    diff = as_unit_float(a).double() - as_unit_float(b).to(a.device).double()
    return diff.flatten(1).pow(2).mean(1).sqrt().float()


@torch.no_grad()
def nearest_images(queries: torch.Tensor, refs: torch.Tensor,
                   ref_chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest reference of each query in pixel space.

    queries: (N, C, H, W), refs: (M, C, H, W), each uint8 (0..255) or float in [0, 1]; the
    references stay where they are (uint8 keeps a training set at a quarter of float's size)
    and are converted ``ref_chunk`` at a time on the queries' device.
    Returns distances (N,) float32, the RMS pixel distance to the nearest reference (pixels in
    [0, 1]), and index (N,) int64 into refs.
    """
    positive_int("ref_chunk", ref_chunk)
    if queries.ndim != 4 or refs.ndim != 4 or queries.shape[1:] != refs.shape[1:]:
        raise ValueError(f"nearest_images: expected queries (N, C, H, W) and refs (M, C, H, W) of the same "
                         f"(C, H, W); got {tuple(queries.shape)} and {tuple(refs.shape)}")
    if len(refs) == 0:
        raise ValueError("nearest_images: refs is empty; need at least one reference image")
    device = queries.device
    q = as_unit_float(queries).flatten(1)                                    # (N, D)
    q_sq = (q * q).sum(1)                                                    # (N,)
    best = torch.full((len(q),), float("inf"), device=device)                # min ‖q − r‖², (N,)
    index = torch.zeros(len(q), dtype=torch.int64, device=device)
    q_chunk = max(1, BLOCK // min(ref_chunk, len(refs)))
    for r0 in range(0, len(refs), ref_chunk):
        r = as_unit_float(refs[r0:r0 + ref_chunk].to(device)).flatten(1)    # (R, D)
        _update_nearest(q, q_sq, r, (r * r).sum(1), r0, q_chunk, best, index)
    found = refs[index.to(refs.device)].to(device)
    return rms_distance(queries, found), index


def _update_nearest(q, q_sq, r, r_sq, r0: int, q_chunk: int, best, index) -> None:
    """Fold references r (R, D) (rows r0.. of the set) into the running nearest of queries q (N, D).

    ‖q − r‖² = ‖q‖² + ‖r‖² − 2 q·r for ``q_chunk`` queries at a time, one matrix product each;
    ``best`` (N,) holds the smallest squared distance so far and ``index`` (N,) its row.
    """
    for q0 in range(0, len(q), q_chunk):
        part = slice(q0, q0 + q_chunk)
        sq = torch.addmm(r_sq[None, :], q[part], r.T, alpha=-2).add_(q_sq[part, None])   # (B, R) squared distances
        low, at = sq.min(1)
        better = low < best[part]
        best[part] = torch.where(better, low, best[part])
        index[part] = torch.where(better, at + r0, index[part])


class NearestIndex:
    """A reference set held ready for many nearest-image queries (a server's training set).

    ``nearest_images`` converts the references for every call, which suits one call over a
    whole set; this converts them once: refs (M, C, H, W) uint8 or float in [0, 1] become a
    float32 (M, D) matrix and their squared norms (M,) on ``device`` (MNIST's 50,000 training
    images: 157 MB).  A query is then one matrix product against the whole set.
    """

    def __init__(self, refs: torch.Tensor, device: str | torch.device | None = None):
        if refs.ndim != 4 or len(refs) == 0:
            raise ValueError(f"NearestIndex: expected refs (M, C, H, W) with M >= 1; got {tuple(refs.shape)}")
        self.refs = refs
        self.shape = tuple(refs.shape[1:])
        self.device = torch.device(device) if device is not None else refs.device
        self.matrix = torch.empty(len(refs), refs[0].numel(), device=self.device)           # (M, D)
        self.sq_norms = torch.empty(len(refs), device=self.device)                          # (M,)
        for i in range(0, len(refs), 1024):   # in pieces: never a second copy of the whole set
            piece = as_unit_float(refs[i:i + 1024].to(self.device)).flatten(1)
            self.matrix[i:i + 1024] = piece
            self.sq_norms[i:i + 1024] = (piece * piece).sum(1)

    def __len__(self) -> int:
        return len(self.matrix)

    @torch.no_grad()
    def search(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (N, C, H, W) uint8 or float in [0, 1] -> (distances (N,) float32, index (N,) int64).

        The same answer as ``nearest_images(queries, refs)``: the RMS pixel distance to the
        nearest reference, recomputed exactly for the one found.
        """
        if queries.ndim != 4 or tuple(queries.shape[1:]) != self.shape:
            raise ValueError(f"NearestIndex.search: expected queries (N, {', '.join(map(str, self.shape))}); "
                             f"got {tuple(queries.shape)}")
        q = as_unit_float(queries.to(self.device)).flatten(1)                                # (N, D)
        best = torch.full((len(q),), float("inf"), device=self.device)
        index = torch.zeros(len(q), dtype=torch.int64, device=self.device)
        q_chunk = max(1, SERVING_BLOCK // len(self.matrix))
        _update_nearest(q, (q * q).sum(1), self.matrix, self.sq_norms, 0, q_chunk, best, index)
        found = self.refs[index.to(self.refs.device)].to(self.device)
        return rms_distance(queries.to(self.device), found), index
