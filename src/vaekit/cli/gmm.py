"""``vaekit gmm``: fit the lecture's finite Gaussian mixture by EM and write a run directory.

RUN_DIR/config.json     the mixture's config, the data, the fit's settings and outcome, versions
RUN_DIR/metrics.jsonl   one JSON object per EM iteration: iteration, train_log_px (nats/example)
RUN_DIR/checkpoint.json + checkpoints/  (``vaekit.load(RUN_DIR)`` returns the GaussianMixture)
RUN_DIR/means.png, samples.png

The training images are dequantised once, with a fixed seed, exactly as the Gaussian VAE's
val/test sets are, so the mixture is a density on [0, 1]^D and its log-likelihoods compare
with the VAE's (nats per example; bits/dim with the 8-bit offset, ``bits_per_dim``).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch

from .. import __version__, atomic, checkpoint
from ..data import load as load_dataset
from ..data.transforms import bits_per_dim, fixed_model_input
from ..device import resolve_device
from ..errors import ConfigError
from ..models.gmm import GaussianMixture, GMMConfig
from ..viz.grids import save_samples
from .common import positive_int


def add_parser(sub, parents):
    p = sub.add_parser("gmm", parents=parents, help="fit a Gaussian mixture by EM (the VAE's finite cousin)",
                       description="Fit P(x) = sum_m P(m) N(x; mu_m, Sigma_m) by EM on dequantised images; writes "
                                   "config.json, metrics.jsonl, a checkpoint, means.png and samples.png into --out.")
    p.add_argument("--data", required=True, help="digits, mnist, fashion-mnist, frey, or a path to images/.npy/.npz")
    p.add_argument("--components", type=int, required=True, metavar="M", help="number of mixture components M")
    p.add_argument("--covariance", default="diag", metavar="{diag,full}", help="diag (default) or full")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory (must not hold a run already)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the dataset's files")
    p.add_argument("--image-size", type=positive_int, metavar="N", help="resize a folder of images to this size")
    p.add_argument("--max-iter", type=int, default=100, metavar="N", help="most EM iterations (default 100)")
    p.add_argument("--tol", type=float, default=1e-3, metavar="NATS",
                   help="stop when the mean train log-likelihood improves by less than this, nats (default 1e-3)")
    p.add_argument("--reg-covar", type=float, default=1e-6, help="added to every variance (default 1e-6)")
    p.add_argument("--seed", type=int, default=0, help="seeds the dequantisation and the k-means++ start (default 0)")
    p.add_argument("--device", default="auto", metavar="{auto,cpu,cuda}", help="auto (default), cpu or cuda")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    run_dir = Path(args.out)
    if (run_dir / checkpoint.POINTER).exists():
        raise ConfigError(f"{run_dir} already holds a run; choose another --out")
    device = resolve_device(args.device)
    train = load_dataset(args.data, "train", data_dir=args.data_dir, image_size=args.image_size)
    config = GMMConfig(components=args.components, covariance=args.covariance, image_shape=train.image_shape,
                       reg_covar=args.reg_covar)
    x = fixed_model_input(train.images.to(device), "gaussian", args.seed)  # (N, C, H, W) in [0, 1)
    dims = math.prod(train.image_shape)
    model = GaussianMixture(config).to(device)

    records: list[dict] = []
    last = [time.perf_counter()]

    def on_iteration(iteration: int, log_px: float) -> None:
        now = time.perf_counter()
        records.append({"iteration": iteration, "train_log_px": log_px, "seconds": now - last[0]})
        last[0] = now
        atomic.write_text(run_dir / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))
        print(f"iteration {iteration:>3}/{args.max_iter}  train log p(x) {log_px:.3f} nats  "
              f"{records[-1]['seconds']:.2f} s", flush=True)

    start = time.perf_counter()
    model.fit(x, max_iter=args.max_iter, tol=args.tol, generator=torch.Generator(device=device).manual_seed(args.seed),
              callback=on_iteration)
    seconds = time.perf_counter() - start

    checkpoint.save(run_dir, model, {"epoch": 0, "iterations": model.n_iter_}, epoch=0)
    atomic.write_json(run_dir / "config.json", {
        "kind": "gmm",
        "gmm": config.to_dict(),
        "data": {"name": args.data, "image_shape": list(train.image_shape), "n_train": len(train),
                 "data_dir": args.data_dir, "image_size": args.image_size},
        "fit": {"max_iter": args.max_iter, "tol": args.tol, "seed": args.seed, "iterations": model.n_iter_,
                "converged": model.converged_, "seconds": seconds, "train_log_px": model.log_likelihood_},
        "device": str(device),
        "vaekit_version": __version__,
        "torch_version": torch.__version__,
        "command": ["vaekit", *sys.argv[1:]],
    })
    rows = max(1, math.isqrt(config.components))
    save_samples(model.means_as_images().cpu(), run_dir / "means.png", rows=rows)
    g = torch.Generator(device=device).manual_seed(args.seed)
    save_samples(model.sample(64, generator=g).clamp(0, 1).cpu(), run_dir / "samples.png")

    state = "converged" if model.converged_ else "stopped at --max-iter"
    print(f"train log p(x) {model.log_likelihood_:.2f} nats/example = "
          f"{bits_per_dim(model.log_likelihood_, dims, 'gaussian'):.4f} bits/dim "
          f"({state} after {model.n_iter_} iterations, {seconds:.1f} s)")
    print(f"wrote {run_dir}/: config.json metrics.jsonl checkpoint means.png samples.png")
    return 0
