"""``vaekit sample RUN_DIR``: decoded draws of a trained model as one PNG grid (of one class, for a conditional model)."""

from __future__ import annotations

MAX_SAMPLES = 1024


def add_parser(sub, parents):
    p = sub.add_parser("sample", parents=parents, help="draw images from a trained model into a PNG",
                       description="Decode n prior draws z ~ p(z) of a vae or ae run (the mean images E[x|z]) "
                                   "into one PNG grid; a conditional run (--condition label) draws p(x|z, y) for "
                                   "the class --class, or one row per class without it.")
    p.add_argument("run_dir", help="a run directory written by vaekit train")
    p.add_argument("--n", type=int, default=64, help=f"images to draw (default 64; per class without --class; "
                                                      f"at most {MAX_SAMPLES})")
    p.add_argument("--class", dest="label", type=int, metavar="Y",
                   help="the class to draw, 0 to C-1 (a conditional run only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    p.add_argument("--out", default="samples.png", help="the PNG file to write (default samples.png)")
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    import torch

    from .. import validate
    from ..atomic import write_bytes
    from ..errors import ConfigError
    from ..rundir import load_model, read_config
    from ..viz.grids import samples_png

    validate.integer("n", args.n, 1, MAX_SAMPLES)
    validate.integer("seed", args.seed, 0, 2 ** 63 - 1)
    if read_config(args.run_dir)["kind"] == "gmm":
        raise ConfigError(f"{args.run_dir} is a gmm run; vaekit sample draws from vae and ae runs "
                          "(a mixture's samples.png is in its run directory)", setting="run_dir")
    model = load_model(args.run_dir)
    g = torch.Generator().manual_seed(args.seed)
    if not model.conditional:
        if args.label is not None:
            raise ConfigError(f"--class {args.label}: {args.run_dir} is not conditional (trained without "
                              "--condition label), so it draws no chosen class", setting="label")
        images, rows = model.sample(args.n, generator=g), 8
    elif args.label is not None:
        images, rows = model.sample(args.n, generator=g, y=args.label), 8
    else:   # one row per class
        classes = model.config.classes
        validate.integer("n", args.n * classes, 1, MAX_SAMPLES * 16)
        images, rows = model.sample(args.n * classes, generator=g,
                                    y=torch.arange(classes).repeat_interleave(args.n)), classes
    if model.likelihood == "gaussian" or not torch.isfinite(images).all():
        images = images.clamp(0, 1)
    write_bytes(args.out, samples_png(images, rows=rows))
    what = f"class {args.label}" if args.label is not None else (
        f"{model.config.classes} classes, one row each" if model.conditional else "p(z)")
    print(f"wrote {args.out}: {len(images)} images ({what})")
    return 0
