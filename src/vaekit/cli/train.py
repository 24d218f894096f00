"""``vaekit train``: train an AE or VAE and write a run directory."""

from __future__ import annotations

import sys

from ..train import config_for_resume, fit, make_config
from .common import positive_int


def add_parser(sub, parents):
    p = sub.add_parser("train", parents=parents, help="train an autoencoder or VAE",
                       description="Train an AE or VAE; writes config.json, metrics.jsonl, a checkpoint and "
                                   "samples.png, reconstructions.png, curves.png into --out.")
    # Every default is None: unset flags fall through to the TOML file, then TrainConfig's defaults.
    p.add_argument("--data", help="digits (default), mnist, fashion-mnist, frey, or a path to images/.npy/.npz")
    p.add_argument("--data-dir", help="folder holding the dataset's files")
    p.add_argument("--image-size", type=positive_int, help="resize a folder of images to this size")
    p.add_argument("--model", help="vae (default) or ae")
    p.add_argument("--arch", help="mlp (default) or conv")
    p.add_argument("--hidden", help="hidden layer widths, e.g. 400 (default) or 512,256")
    p.add_argument("--latent", type=int, help="size of the code z (default 20)")
    p.add_argument("--likelihood", help="bernoulli or gaussian (default: gaussian for frey, else bernoulli)")
    p.add_argument("--objective", help="elbo (default) or iwae")
    p.add_argument("--beta", type=float, help="weight of the KL term (default 1)")
    p.add_argument("--k", type=int, help="importance samples for --objective iwae (default 1)")
    p.add_argument("--warmup-epochs", type=int, help="ramp the KL weight from 0 to beta over N epochs")
    p.add_argument("--free-bits", type=float, help="charge each latent dimension at least this many nats")
    p.add_argument("--epochs", type=int, help="number of epochs (default 50)")
    p.add_argument("--batch-size", type=int, help="examples per step (default 128)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3)")
    p.add_argument("--lr-schedule", help="constant (default) or cosine (anneal to 0 over --epochs)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--device", help="auto (default), cpu or cuda")
    p.add_argument("--log-px-every", type=int, help="estimate val log p(x) every N epochs (0: never; default 5)")
    p.add_argument("--log-px-k", type=int, help="importance samples for that estimate (default 100)")
    p.add_argument("--out", default="runs/latest", help="run directory (default runs/latest)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--config", help="TOML file of settings (keys named as the flags)")
    p.set_defaults(func=main)
    return p


SETTINGS = ("data", "data_dir", "image_size", "model", "arch", "hidden", "latent", "likelihood", "objective",
            "beta", "k", "warmup_epochs", "free_bits", "epochs", "batch_size", "lr", "lr_schedule", "seed", "device",
            "log_px_every", "log_px_k")


def main(args) -> int:
    flags = {name: getattr(args, name) for name in SETTINGS}
    if args.resume:
        cfg = config_for_resume(args.out, {k: v for k, v in flags.items() if v is not None})
    else:
        cfg = make_config(args.config, **flags)
    def progress_bar(rows, epoch):   # a bar per epoch on a terminal, nothing in logs
        from tqdm import tqdm

        return tqdm(rows, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, unit="step")

    def on_epoch(r):
        extra = f"  val log p(x) {r['val_log_px']:.2f}" if "val_log_px" in r else ""
        print(f"epoch {r['epoch']:>3}/{cfg.epochs}  train loss {r['train_loss']:.2f}  "
              f"val -ELBO {r['val_loss']:.2f} nats{extra}  {r['seconds']:.2f} s", flush=True)

    records = fit(cfg, args.out, resume=args.resume, progress=progress_bar if sys.stderr.isatty() else None,
                  on_epoch=on_epoch, command=["vaekit", *sys.argv[1:]])
    if records:
        print(f"wrote {args.out}/: config.json metrics.jsonl checkpoint samples.png reconstructions.png "
              "interpolations.png curves.png")
    return 0
