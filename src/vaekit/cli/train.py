"""``vaekit train``: train an autoencoder or VAE into a run directory, then draw its figures."""

from __future__ import annotations

import os
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
    from pathlib import Path

    from .. import distributed
    from ..device import resolve_device
    from ..errors import ConfigError
    from ..rundir import command_line, resumable
    from ..train.config import from_toml, make_config
    from ..train.run import config_for_resume

    flags = config_values(args, TrainConfig)
    command = command_line(args.argv)
    if (not args.resume and distributed.launched() and distributed.restart_count() > 0 and args.out is not None
            and (Path(args.out) / "config.json").exists()):
        # torchrun --max-restarts started this job again after a worker failed: continue the run
        # the first attempt made instead of refusing its folder.
        args.resume = True
        if os.environ.get("RANK") == "0":
            print(f"torchrun restart {distributed.restart_count()}: resuming {args.out} from its last checkpoint",
                  flush=True)
    if args.resume:
        if args.out is None:
            raise ConfigError("out must name the run to continue with --resume", setting="out")
        settings = {**(from_toml(args.config) if args.config else {}), **flags}   # flags win over the file
        resumable(args.out)                           # RunDir.resume's errors, before reading the config
        cfg = config_for_resume(args.out, settings)   # config.json only: written atomically, safe to read
    else:
        cfg = make_config(args.config, **flags)
    with distributed.session(resolve_device(cfg.device)):
        return _train(args, cfg, command)


def _train(args, cfg, command) -> int:
    from .. import distributed
    from ..errors import TrainingDiverged
    from ..rundir import RunDir
    from ..train.run import fit, prepare
    from ..viz import vae_figures
    from .common import Interrupted

    prepared = prepare(cfg, resume=args.out if args.resume else None)   # files read, sizes checked: nothing written yet
    opened = {}

    def open_run():   # rank 0 alone owns the run directory (and its lock)
        opened["run"] = RunDir.resume(args.out) if args.resume else new_run(args.out, cfg.data, cfg.model, "train")
        return str(opened["run"].path)

    path = distributed.on_main(open_run)
    run = opened.get("run")   # None on the other ranks: they write nothing
    main = distributed.is_main()
    if main:
        world = distributed.world_size()
        print(f"run directory: {path}" + (f"  ({world} processes)" if world > 1 else ""), flush=True)

    def progress_bar(rows, epoch):   # a bar per epoch on a terminal, nothing in logs
        from tqdm import tqdm

        return tqdm(rows, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, unit="step")

    def on_epoch(r):
        extra = f"  val log p(x) {r['val_log_px']:.2f}" if "val_log_px" in r else ""
        print(f"epoch {r['epoch']:>3}/{cfg.epochs}  train loss {r['train_loss']:.2f}  "
              f"val -ELBO {r['val_loss']:.2f} nats{extra}  {r['seconds']:.2f} s", flush=True)

    figures = {}
    try:
        model, history = fit(cfg, run, resume=args.resume,
                             progress=progress_bar if main and sys.stderr.isatty() else None,
                             on_epoch=on_epoch, command=command, prepared=prepared)
        if run is not None:
            test = prepared.splits[2]
            figures = vae_figures(model, test, history, seed=cfg.seed, title=f"{cfg.model} on {cfg.data}")
            for name, png in figures.items():
                run.write_figure(name, png)
    except KeyboardInterrupt:
        epoch = last_checkpoint(path)
        raise Interrupted(f"no checkpoint was written yet; {path} holds no trained model" if epoch is None else
                          f"the last checkpoint (epoch {epoch}) in {path} is kept; --resume continues from it")
    except TrainingDiverged as e:
        epoch = last_checkpoint(path)
        kept = "no checkpoint was written" if epoch is None else f"the last good checkpoint (epoch {epoch}) is kept"
        raise TrainingDiverged(f"{e}; {kept}") from None
    finally:
        if run is not None:
            run.close()
    if main:
        print(f"wrote {path}/: config.json metrics.jsonl checkpoint {' '.join(figures)}")
    return 0
