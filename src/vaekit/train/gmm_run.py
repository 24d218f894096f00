"""A whole Gaussian-mixture run: ``fit_gmm(cfg, out) -> (mixture, history)``, EM on dequantised images.

The training images are dequantised once, with a fixed seed, exactly as the Gaussian VAE's
val/test sets are, so the mixture is a density on [0, 1]^D and its log-likelihoods compare
with the VAE's (nats per example; bits/dim with the 8-bit offset, ``bits_per_dim``).  The
run directory is written in the same order as a VAE run's (config, metrics, checkpoint,
pointer last), so ``vaekit eval`` and ``vaekit.load`` read both alike.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch

from ..data.transforms import fixed_model_input
from ..device import flush_denormals, resolve_device
from ..models.gmm import GaussianMixture, GMMConfig
from ..rundir import RunDir, run_config
from .config import GMMFitConfig
from .limits import check_mixture
from .run import Prepared, load_splits


def prepare_gmm(cfg: GMMFitConfig) -> Prepared:
    """Everything a fit can fail on before it writes anything: the device, every data file, and the
    mixture's size (no more components than examples, memory)."""
    device = resolve_device(cfg.device)
    splits = load_splits(cfg)
    train = splits[0]
    check_mixture(cfg.components, cfg.covariance, math.prod(train.image_shape), len(train), device)
    return Prepared(device, splits, GMMConfig(components=cfg.components, covariance=cfg.covariance,
                                              image_shape=train.image_shape, reg_covar=cfg.reg_covar))


def fit_gmm(cfg: GMMFitConfig, out: str | Path | RunDir | None = None, *, on_iteration=None,
            command: list[str] | None = None, prepared: Prepared | None = None):
    """Fit P(x) = Σ_m P(m) N(x; μ_m, Σ_m) by EM; returns (mixture, history).

    history: one dict per EM iteration (``iteration``, ``train_log_px`` in nats per example,
    ``seconds``); ``on_iteration(record)`` is called after each.  With ``out`` the run
    directory gets config.json first, the metrics as they come, and the checkpoint last.
    ``prepared``: what ``prepare_gmm(cfg)`` returned, if the caller checked before making ``out``.
    """
    device, splits, config = prepared if prepared is not None else prepare_gmm(cfg)
    train = splits[0]
    run = out if isinstance(out, RunDir) or out is None else RunDir.create(out)
    try:
        if run is not None:
            run.write_config(run_config("gmm", config.to_dict(), cfg.to_dict(),
                                        {"name": cfg.data, "image_shape": list(train.image_shape),
                                         "n_train": len(train), "n_val": len(splits[1]), "n_test": len(splits[2])},
                                        str(device), command if command is not None else ["vaekit"]))
        x = fixed_model_input(train.images.to(device), "gaussian", cfg.seed)   # (N, C, H, W) in [0, 1)
        model = GaussianMixture(config).to(device)
        history: list[dict] = []
        last = [time.perf_counter()]

        def record(iteration: int, log_px: float) -> None:
            now = time.perf_counter()
            history.append({"iteration": iteration, "train_log_px": log_px, "seconds": now - last[0]})
            last[0] = now
            if run is not None:
                run.write_metrics(history)
            if on_iteration is not None:
                on_iteration(history[-1])

        with flush_denormals(device):
            model.fit(x, max_iter=cfg.max_iter, tol=cfg.tol,
                      generator=torch.Generator(device=device).manual_seed(cfg.seed), callback=record)
        if run is not None:
            run.save_checkpoint(model, {"epoch": model.n_iter_, "converged": model.converged_,
                                        "train_log_px": model.log_likelihood_}, epoch=model.n_iter_)
        return model, history
    finally:
        if run is not None and run is not out:
            run.close()
