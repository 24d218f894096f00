"""A whole training run: data, model, epochs, checkpoints, metrics and figures in RUN_DIR.

RUN_DIR/config.json      every setting (resolved), versions, the command line
RUN_DIR/metrics.jsonl    one JSON object per epoch
RUN_DIR/checkpoint.json  + checkpoints/  (see vaekit.checkpoint)
RUN_DIR/samples.png, reconstructions.png, interpolations.png, curves.png
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from .. import __version__, atomic, checkpoint
from ..data import load as load_dataset
from ..data.transforms import TrainingBatches, split_input
from ..device import resolve_device
from ..errors import ConfigError
from ..eval.elbo import elbo_means
from ..eval.likelihood import log_px
from ..models import ModelConfig, build_model
from ..viz import save_curves, save_interpolations, save_reconstructions, save_samples
from .config import TrainConfig
from .loop import train_epoch
from .optim import make_optimizer

RESUMABLE = {"epochs", "device", "data_dir"}   # settings that may change on --resume


def model_config(cfg: TrainConfig, image_shape) -> ModelConfig:
    return ModelConfig(kind=cfg.model, arch=cfg.arch, image_shape=tuple(image_shape), hidden=cfg.hidden,
                       latent=cfg.latent, likelihood=cfg.resolved_likelihood())


def config_for_resume(run_dir: str | Path, changes: dict) -> TrainConfig:
    """The saved settings of a run, with only ``RESUMABLE`` ones changed by ``changes``."""
    run_dir = Path(run_dir)
    checkpoint.current(run_dir)   # fail early, with the checkpoint's own error, if there is none
    saved = checkpoint.read_config(run_dir)["train"]
    saved["hidden"] = tuple(saved["hidden"])
    cfg = TrainConfig(**saved)
    for key, value in changes.items():
        if value is None:
            continue
        changed = replace(cfg, **{key: value})       # parses the flag as a fresh config would
        if getattr(changed, key) == getattr(cfg, key):
            continue
        if key not in RESUMABLE:
            raise ConfigError(f"--{key.replace('_', '-')} cannot change on --resume (saved {getattr(cfg, key)!r}, "
                              f"got {getattr(changed, key)!r}); only {', '.join(sorted(RESUMABLE))} can")
        cfg = changed
    return cfg


def fit(cfg: TrainConfig, run_dir: str | Path, *, resume: bool = False, progress=None, on_epoch=None,
        command: list[str] | None = None) -> list[dict]:
    """Train (or, with ``resume``, continue training) and return the metrics of every epoch.

    ``progress(iterable, epoch)`` may wrap the step loop (a progress bar); ``on_epoch(record)``
    is called after each epoch's checkpoint is safely on disk.
    """
    run_dir = Path(run_dir)
    if not resume and (run_dir / checkpoint.POINTER).exists():
        raise ConfigError(f"{run_dir} already holds a trained run; use --resume to continue it or another --out")
    device = resolve_device(cfg.device)
    likelihood = cfg.resolved_likelihood()
    train = load_dataset(cfg.data, "train", data_dir=cfg.data_dir, image_size=cfg.image_size)
    val = load_dataset(cfg.data, "val", data_dir=cfg.data_dir, image_size=cfg.image_size)
    mcfg = model_config(cfg, train.image_shape)
    model = build_model(mcfg, cfg.seed).to(device)
    optimizer = make_optimizer(model, cfg.lr)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    records: list[dict] = []
    start_epoch = 0
    if resume:
        state = checkpoint.load_state(run_dir)
        weights = checkpoint.load_model(run_dir).state_dict()
        model.load_state_dict(weights)
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        start_epoch = int(state["epoch"])
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
                   if line.strip()][:start_epoch] if (run_dir / "metrics.jsonl").exists() else []
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_json(run_dir / "config.json", {
        "train": cfg.to_dict(),
        "model": mcfg.to_dict(),
        "data": {"name": cfg.data, "image_shape": list(train.image_shape), "n_train": len(train), "n_val": len(val)},
        "device": str(device),
        "vaekit_version": __version__,
        "torch_version": torch.__version__,
        "command": command if command is not None else sys.argv,
    })

    batches = TrainingBatches(train.images.to(device), likelihood)
    val_x = split_input(val.images.to(device), likelihood, "val")
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        result = train_epoch(model, optimizer, batches, cfg, epoch, generator, progress)
        record = {"epoch": epoch, "train_loss": result.train_loss, "seconds": result.seconds}
        record.update(validate(model, val_x, cfg, epoch, device))
        records.append(record)
        atomic.write_text(run_dir / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))
        checkpoint.save(run_dir, model, {
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(),
            "epoch": epoch,
            "vaekit_version": __version__,
        }, epoch)
        if on_epoch is not None:
            on_epoch(record)
    write_figures(model, cfg, run_dir, records)
    return records


@torch.no_grad()
def validate(model, val_x: torch.Tensor, cfg: TrainConfig, epoch: int, device) -> dict:
    """Val negative ELBO (and, every ``log_px_every`` epochs, log p(x) with k = log_px_k), nats."""
    model.eval()
    start = time.perf_counter()
    # A fresh generator per epoch: validation never disturbs the training random stream.
    g = torch.Generator(device=device).manual_seed(cfg.seed + epoch)
    means = elbo_means(model, val_x, generator=g)
    record = {"val_loss": -means["elbo"], "val_recon": means["recon"], "val_kl": means["kl"]}
    due = cfg.log_px_every and model.is_variational and (epoch % cfg.log_px_every == 0 or epoch == cfg.epochs)
    if due:
        record["val_log_px"] = log_px(model, val_x, k=cfg.log_px_k, generator=g).mean().item()
    record["val_seconds"] = time.perf_counter() - start
    return record


@torch.no_grad()
def write_figures(model, cfg: TrainConfig, run_dir: Path, records: list[dict]) -> None:
    model.eval()
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(cfg.seed)
    save_samples(model.sample(64, generator=g).cpu(), run_dir / "samples.png")
    test = load_dataset(cfg.data, "test", data_dir=cfg.data_dir, image_size=cfg.image_size)
    likelihood = model.likelihood
    x = split_input(test.images[:32].to(device), likelihood, "test")
    shown = x if likelihood == "bernoulli" else test.images[:32].float().div(255).to(device)
    save_reconstructions(shown.cpu(), model.reconstruct(x).cpu(), run_dir / "reconstructions.png")
    pairs = x[:2 * min(4, len(x) // 2)]
    if len(pairs):
        save_interpolations(model.interpolate(pairs[0::2], pairs[1::2], steps=10).cpu(), run_dir / "interpolations.png")
    if records:
        save_curves(records, run_dir / "curves.png", title=f"{cfg.model} on {cfg.data}")
