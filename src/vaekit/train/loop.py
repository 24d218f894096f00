"""The training loop: data on the device, batches by indexing, no host sync per step.

Per step the loop only launches work: the batch is an index into a device tensor, the
loss of each step is written into a device buffer, and the first non-finite loss is
found once per epoch when that buffer is read.  On a GPU this keeps the device busy; on a
CPU it removes the DataLoader's per-sample Python.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from .. import distributed
from ..data.transforms import TrainingBatches
from ..device import flush_denormals
from ..errors import ConfigError, TrainingDiverged
from ..objectives.elbo import negative_elbo
from ..objectives.fixed_std import negative_iwae_fixed_std
from ..objectives.iwae import negative_iwae
from ..threads import cpu_threads, training_threads
from .config import TrainConfig
from .handwritten_step import HandWrittenMLPElboStep, handwritten_step_reason


@dataclass
class EpochResult:
    train_loss: float      # mean training loss per example, nats
    seconds: float         # wall time of the epoch's training steps


def kl_weight(cfg: TrainConfig, epoch: int, step: int, steps: int) -> float:
    """β, ramped linearly from 0 over the first ``warmup_epochs`` epochs (epoch counts from 1)."""
    if cfg.warmup_epochs <= 0:
        return cfg.beta
    return cfg.beta * min(1.0, ((epoch - 1) + step / steps) / cfg.warmup_epochs)


def annealed_std(cfg: TrainConfig, epoch: int, step: int, steps: int) -> float | None:
    """f, the fixed decoder std of ``anneal_std`` at a step (epoch counts from 1), or None: the model's own.

    f = F0·(F1/F0)^(t/N) after t = (epoch − 1) + step/steps epochs, N = ``anneal_std_epochs``: F0 at the
    first step, falling geometrically towards F1, then None from epoch N + 1 on
    (``objectives.fixed_std``).  None throughout without ``anneal_std``.
    """
    if not cfg.anneal_std:
        return None
    t = (epoch - 1) + step / steps
    if t >= cfg.anneal_std_epochs:
        return None
    start, end = cfg.anneal_std
    return start * (end / start) ** (t / cfg.anneal_std_epochs)


def learning_rate(cfg: TrainConfig, epoch: int, elapsed: float | None = None) -> float:
    """The learning rate of an epoch (counted from 1): constant, or cosine-annealed to 0.

    The cosine runs over ``cfg.epochs`` epochs, or, with a time budget, over the budget:
    lr·½(1 + cos(π·t/T)) at ``elapsed`` = t seconds of T, so a run stopped by its budget has
    annealed however many epochs fitted in it.
    """
    if cfg.lr_schedule != "cosine":
        return cfg.lr
    if cfg.time_budget is not None:
        if elapsed is None:
            raise ValueError("a time-budgeted cosine schedule needs the elapsed time")
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / cfg.time_budget)))
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / cfg.epochs))


def handwritten_step(model, cfg: TrainConfig) -> HandWrittenMLPElboStep | None:
    """The hand-written step if setting ``fast_path`` and the model allow it; None: autograd.

    fast_path "auto" takes it wherever it applies, "off" never, "on" always (a ConfigError
    saying why when it does not apply).
    """
    mode = getattr(cfg, "fast_path", "auto")
    if mode == "off" or getattr(cfg, "precision", "fp32") != "fp32":   # the hand-written step is float32
        return None
    reason = handwritten_step_reason(model, cfg.objective, cfg.free_bits)
    if reason is None:
        return HandWrittenMLPElboStep(model)
    if mode == "on":
        raise ConfigError(f"fast_path is 'on', but the hand-written step does not apply: {reason} "
                          "(use fast_path auto or off)", setting="fast_path")
    return None


def train_epoch(model, optimizer, batches: TrainingBatches, cfg: TrainConfig, epoch: int,
                generator: torch.Generator, progress=None, elapsed: float | None = None) -> EpochResult:
    """One pass over the training set ``batches`` (on the model's device), in a seeded random order.

    Under torchrun (``vaekit.distributed``), every rank draws the same permutation and the same
    data noise from ``generator`` (so the generators stay in step), takes its rows of each global
    batch of ``cfg.batch_size`` (``distributed.split``: sizes differ by at most one), and the
    gradients are summed over ranks in one flat buffer, each weighted by its share of the batch:
    every rank then holds the one-process gradient of the global batch and takes the same step.
    The hand-written step draws the code noise e for the whole batch too, so the run differs
    from one process only by the order of floating-point sums; the autograd path draws e per
    rank from a generator seeded by (seed, epoch, rank).  ``elapsed``: seconds of the run so
    far, for a time-budgeted schedule (``learning_rate``).
    """
    model.train()
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(cfg, epoch, elapsed)
    n = len(batches)
    device = batches.images.device
    steps = math.ceil(n / cfg.batch_size)
    step_fn = handwritten_step(model, cfg)
    world = distributed.world_size()
    params = list(model.parameters())
    code_noise = generator if world == 1 else torch.Generator(device=device).manual_seed(
        ((cfg.seed * 1_000_003 + epoch) * 65_537 + distributed.rank()) % 2 ** 63)
    rows = range(steps) if progress is None else progress(range(steps), epoch)
    start = time.perf_counter()
    # denormal floats cost ~100x a normal one on x86 CPUs; the conv model makes many of them.  A small
    # model's steps run on one thread (``threads``).
    threads = training_threads(cfg.threads, model, cfg.batch_size, device)
    with flush_denormals(device), cpu_threads(threads):
        perm = torch.randperm(n, generator=generator, device=device)
        batch_losses = torch.zeros(steps, device=device)   # Σ loss over each batch, nats
        for step in rows:
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            part = None if world == 1 else distributed.split(len(idx))
            x = batches(idx, generator, rows=part)
            y = None if batches.labels is None else batches.labels[idx if part is None else idx[part]]
            beta = kl_weight(cfg, epoch, step, steps)
            if len(x) == 0:   # more ranks than rows in this (last) batch: nothing to add but zeros
                if step_fn is not None:   # keep the generator in step with the ranks that drew e
                    torch.randn((len(idx), model.latent_dim), generator=generator, device=device)
                for p in params:
                    p.grad = torch.zeros_like(p) if p.grad is None else p.grad.zero_()
                total = torch.zeros((), device=device)
            elif step_fn is not None:
                total = step_fn(x, beta, generator, rows=None if part is None else (len(idx), part))   # sets .grad
            else:
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                    std = annealed_std(cfg, epoch, step, steps)
                    if std is not None:
                        loss = negative_iwae_fixed_std(model, x, cfg.anneal_k or cfg.k, std, code_noise, y)
                    elif cfg.objective == "iwae":
                        loss = negative_iwae(model, x, cfg.k, code_noise, y)
                    else:
                        loss, _, _ = negative_elbo(model, x, beta, code_noise, cfg.free_bits, y)
                total = loss.float().sum()
                optimizer.zero_grad(set_to_none=True)
                (total / len(x)).backward()
            if world > 1:
                distributed.sum_gradients(params, len(x) / len(idx))
            optimizer.step()
            batch_losses[step] = total.detach()
        batch_losses = distributed.all_sum(batch_losses)   # every rank sees the same losses, and stops together
        bad = ~torch.isfinite(batch_losses)
        if bad.any():   # the epoch's one host sync besides the loss read below
            step = int(bad.nonzero()[0, 0])
            raise TrainingDiverged(f"non-finite loss at epoch {epoch}, step {step + 1} of {steps}")
        train_loss = batch_losses.sum().item() / n
    return EpochResult(train_loss=train_loss, seconds=time.perf_counter() - start)
