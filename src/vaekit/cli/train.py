"""``vaekit train``: train an autoencoder or VAE into a run directory, then draw its figures."""

from __future__ import annotations

import sys

from ..train.config import TrainConfig
from .flags import add_config_flags, config_values

DEFAULT_PARENT = "runs"   # without --out: runs/<data>-<model>-N, the next free N


def add_parser(sub, parents):
    p = sub.add_parser("train", parents=parents, help="train an autoencoder or VAE",
                       description="Train an AE or VAE; writes config.json, metrics.jsonl, a checkpoint and "
                                   "samples.png, reconstructions.png, interpolations.png, curves.png into the run "
                                   "directory.")
    add_config_flags(p, TrainConfig)
    p.add_argument("--out", metavar="RUN_DIR",
                   help=f"run directory (default: a new {DEFAULT_PARENT}/<data>-<model>-N, printed at the start)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--config", metavar="FILE.toml", help="TOML file of settings (keys named as the flags)")
    p.set_defaults(func=main)
    return p


def new_run(out: str | None, data: str, kind: str, what: str = "run"):
    """A locked new run directory: ``out``, or without it ``runs/<data>-<kind>-N`` for the next free N
    (a path dataset is named by its last component)."""
    from pathlib import Path

    from ..rundir import RunDir

    if out is not None:
        return RunDir.create(out, what)
    name = Path(data).stem if ("/" in data or "." in data) else data
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "data"
    return RunDir.create_numbered(DEFAULT_PARENT, f"{safe}-{kind}")


def last_checkpoint(run_dir) -> int | None:
    """The epoch of the run's current checkpoint, or None if it has none (or a damaged one)."""
    from ..errors import CheckpointError
    from ..rundir import current

    try:
        return current(run_dir)[1]["epoch"]
    except CheckpointError:
        return None


def main(args) -> int:
    from ..errors import ConfigError, TrainingDiverged
    from ..rundir import RunDir, command_line
    from ..train.config import from_toml, make_config
    from ..train.run import config_for_resume, fit, prepare
    from ..viz import vae_figures
    from .common import Interrupted

    flags = config_values(args, TrainConfig)
    command = command_line(args.argv)
    if args.resume:
        if args.out is None:
            raise ConfigError("out must name the run to continue with --resume", setting="out")
        settings = {**(from_toml(args.config) if args.config else {}), **flags}   # flags win over the file
        run = RunDir.resume(args.out)
        try:
            cfg = config_for_resume(run.path, settings)
            prepared = prepare(cfg)
        except BaseException:
            run.close()
            raise
    else:
        cfg = make_config(args.config, **flags)
        prepared = prepare(cfg)    # every data file read, sizes checked: nothing is written before this
        run = new_run(args.out, cfg.data, cfg.model, "train")
    print(f"run directory: {run.path}", flush=True)

    def progress_bar(rows, epoch):   # a bar per epoch on a terminal, nothing in logs
        from tqdm import tqdm

        return tqdm(rows, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, unit="step")

    def on_epoch(r):
        extra = f"  val log p(x) {r['val_log_px']:.2f}" if "val_log_px" in r else ""
        print(f"epoch {r['epoch']:>3}/{cfg.epochs}  train loss {r['train_loss']:.2f}  "
              f"val -ELBO {r['val_loss']:.2f} nats{extra}  {r['seconds']:.2f} s", flush=True)

    try:
        model, history = fit(cfg, run, resume=args.resume, progress=progress_bar if sys.stderr.isatty() else None,
                             on_epoch=on_epoch, command=command, prepared=prepared)
        test = prepared.splits[2]
        figures = vae_figures(model, test, history, seed=cfg.seed, title=f"{cfg.model} on {cfg.data}")
        for name, png in figures.items():
            run.write_figure(name, png)
    except KeyboardInterrupt:
        epoch = last_checkpoint(run.path)
        raise Interrupted(f"no checkpoint was written yet; {run.path} holds no trained model" if epoch is None else
                          f"the last checkpoint (epoch {epoch}) in {run.path} is kept; --resume continues from it")
    except TrainingDiverged as e:
        epoch = last_checkpoint(run.path)
        kept = "no checkpoint was written" if epoch is None else f"the last good checkpoint (epoch {epoch}) is kept"
        raise TrainingDiverged(f"{e}; {kept}") from None
    finally:
        run.close()
    print(f"wrote {run.path}/: config.json metrics.jsonl checkpoint {' '.join(figures)}")
    return 0
