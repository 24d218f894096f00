"""From stored uint8 images to what a likelihood models, batched on the device.

- ``bernoulli``: x = pixel/255 read as a probability; a Bernoulli draw of it is the binary
  image (dynamic binarisation: a fresh draw for every training batch; one fixed, seeded
  draw for val/test so their numbers are comparable across runs).
- ``gaussian``: uniform dequantisation y = (pixel + u)/256, u ~ U[0, 1), a continuous
  value in [0, 1).  A density p(y) then bounds the probability of the 8-bit image:
  log P(pixels) >= E_u[log p(y)] - D·log 256 (see ``bits_per_dim``).

Continuous data (float32, the generated ``spiral`` and ``linear-gaussian``) is already what a
Gaussian p(x|z) models: it is used as it is, and only with ``gaussian``.
"""

from __future__ import annotations

import math

import torch


def binarize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float {0, 1}, each pixel 1 with probability pixel/255."""
    u = torch.rand(images.shape, generator=generator, device=images.device)
    # u < p with p = pixel/255; comparing uniforms is ~3x faster than torch.bernoulli on CPU.
    return (u * 255 < images).float()


def dequantize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float in [0, 1): (pixel + u)/256, u ~ U[0, 1)."""
    u = torch.rand(images.shape, generator=generator, device=images.device)
    return (images + u) / 256


def check_continuous(images: torch.Tensor, likelihood: str) -> None:
    """ValueError unless float (continuous) images go with the ``gaussian`` likelihood."""
    if images.is_floating_point() and likelihood != "gaussian":
        raise ValueError(f"continuous (float) data needs likelihood gaussian; got {likelihood}")


class TrainingBatches:
    """A training set held on the device, batched by index: ``x = batches(idx, generator)``.

    images: (N, C, H, W) uint8 on the training device (float32 continuous data: rows are
    gathered as they are, no noise).  Each call draws a fresh
    binarisation/dequantisation of the rows ``idx`` (B,) -> (B, C, H, W) float32.  The
    returned tensor is a buffer that the next call overwrites: copy it to keep it.  (Fresh
    100 kB-1 MB tensors every step cost a CPU page faults and cache misses; reused ones do
    not.  The buffers are made again when the batch size changes.)

    Binarisation compares 16 random bits per pixel, u uniform on 0..65535, with the
    threshold T = ceil(65536·pixel/255): P(u < T) = T/65536, within 1/65536 of pixel/255,
    exactly 0 for black and 1 for white.  Four pixels per 64-bit draw and one integer
    comparison written straight into the float output make it about twice as fast as
    comparing float uniforms on a CPU.
    """

    def __init__(self, images: torch.Tensor, likelihood: str):
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"unknown likelihood {likelihood!r}; expected bernoulli or gaussian")
        check_continuous(images, likelihood)
        self.images = images
        self.likelihood = likelihood
        self.labels: torch.Tensor | None = None   # (N,) classes on the device, for a conditional model
        if likelihood == "bernoulli":   # shifted by -32768 to compare with signed 16-bit draws
            self.thresholds = (images.to(torch.int32) * 65536 + 254) // 255 - 32768
        self._buffers: dict[str, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.images)

    def __call__(self, idx: torch.Tensor, generator: torch.Generator | None = None,
                 rows: slice | None = None) -> torch.Tensor:
        """The batch of rows ``idx`` (B,), freshly binarised/dequantised with ``generator``: (B, C, H, W).

        ``rows``: only these rows of the batch (one rank's part of a global batch, under
        ``torch.distributed``).  The noise is still drawn for the whole batch, and the part's
        rows take theirs, so every rank's generator stays in step and each example gets the
        noise it would get in one process.
        """
        full = (len(idx),) + tuple(self.images.shape[1:])
        part = idx if rows is None else idx[rows]
        shape = (len(part),) + full[1:]
        bufs = self._batch_buffers(shape, full)
        out = bufs["out"]
        if self.images.is_floating_point():   # continuous data: the rows themselves
            return torch.index_select(self.images, 0, part, out=out)
        if self.likelihood == "gaussian":   # (pixel + u)/256, as ``dequantize``
            if rows is None:
                torch.rand(shape, generator=generator, device=out.device, out=out)
            else:
                out.copy_(torch.rand(full, generator=generator, device=out.device)[rows])
            return out.add_(torch.index_select(self.images, 0, part, out=bufs["pixels"])).div_(256)
        thresholds = torch.index_select(self.thresholds, 0, part, out=bufs["thresholds"])
        draws = random_int16(bufs["draws"], generator)[:math.prod(full)].view(full)
        if rows is not None:
            draws = draws[rows]
        return torch.lt(draws, thresholds, out=out)   # 1.0 where u < T

    def _batch_buffers(self, shape: tuple[int, ...], full: tuple[int, ...]) -> dict[str, torch.Tensor]:
        """The output batch (``shape``) and the scratch tensors, the random draws sized for the
        whole batch (``full``); made again when either changes."""
        if self._buffers.get("key") != (shape, full):
            device = self.images.device
            self._buffers = {"key": (shape, full), "out": torch.empty(shape, device=device)}
            if self.images.is_floating_point():
                pass
            elif self.likelihood == "gaussian":
                self._buffers["pixels"] = torch.empty(shape, device=device, dtype=torch.uint8)
            else:
                self._buffers["thresholds"] = torch.empty(shape, device=device, dtype=torch.int32)
                self._buffers["draws"] = torch.empty(-(-math.prod(full) // 4), device=device, dtype=torch.int64)
        return self._buffers


def random_int16(out: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Fill the int64 tensor ``out`` with random bits; return them as 16-bit integers, -32768..32767
    (four per 64-bit draw), a 1-d view of 4·out.numel() elements."""
    torch.randint(-2 ** 63, 2 ** 63 - 1, out.shape, generator=generator, out=out)
    return out.view(torch.int16)


def to_model_input(images: torch.Tensor, likelihood: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """The float batch a model of ``likelihood`` is trained and evaluated on (continuous data: a copy)."""
    check_continuous(images, likelihood)
    if images.is_floating_point():
        return images.clone()
    if likelihood == "bernoulli":
        return binarize(images, generator)
    if likelihood == "gaussian":
        return dequantize(images, generator)
    raise ValueError(f"unknown likelihood {likelihood!r}; expected bernoulli or gaussian")


def fixed_model_input(images: torch.Tensor, likelihood: str, seed: int, batch: int = 4096) -> torch.Tensor:
    """The fixed, seeded binarisation/dequantisation of a val or test set, (N, C, H, W) float."""
    g = torch.Generator(device=images.device).manual_seed(seed)
    return torch.cat([to_model_input(images[i:i + batch], likelihood, g) for i in range(0, len(images), batch)])


# One fixed draw per split, independent of any training seed, so every model trained on a
# dataset is validated and tested on the very same binarised (or dequantised) images.
SPLIT_SEEDS = {"train": 20_231, "val": 20_232, "test": 20_233}


def split_input(images: torch.Tensor, likelihood: str, split: str) -> torch.Tensor:
    """The fixed model input of a whole val/test (or train) split: (N, C, H, W) float."""
    return fixed_model_input(images, likelihood, SPLIT_SEEDS[split])


def bits_per_dim(log_px_nats: float, dims: int, likelihood: str, continuous: bool = False) -> float:
    """Negative log-likelihood per example in nats -> bits per dimension.

    Binary data, and continuous data (a density of the values themselves, no 8-bit offset):
    -log p(x) / (D ln 2).  Continuous likelihood on 8-bit data dequantised to
    y = (pixel + u)/256 in [0, 1): the density of y is per unit of [0, 1], so the discrete
    probability of the pixels needs the change of scale, -(log p(y) - D·log 256)/(D ln 2)
    (the convention of Real NVP, Glow and NVAE).
    """
    offset = dims * math.log(256) if likelihood == "gaussian" and not continuous else 0.0
    return -(log_px_nats - offset) / (dims * math.log(2))
