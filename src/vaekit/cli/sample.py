"""``vaekit sample RUN_DIR``: decoded draws of a trained model as one PNG grid (of one class, for a conditional model)."""

from __future__ import annotations

from ..rundir.sample import SampleConfig
from .flags import add_config_flags, config_values


def add_parser(sub, parents):
    p = sub.add_parser("sample", parents=parents, help="draw images from a trained model into a PNG",
                       description="Decode n prior draws z ~ p(z) of a vae or ae run (the mean images E[x|z]) "
                                   "into one PNG grid; a conditional run (--condition label) draws p(x|z, y) for "
                                   "the class --label, or one row per class without it.")
    p.add_argument("run_dir", help="a run directory written by vaekit train")
    add_config_flags(p, SampleConfig)
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    from ..atomic import write_bytes
    from ..rundir.sample import sample_run
    from ..viz.grids import samples_png

    cfg = SampleConfig(**config_values(args, SampleConfig))
    images, rows, what = sample_run(args.run_dir, cfg)
    write_bytes(cfg.out, samples_png(images, rows=rows))
    print(f"wrote {cfg.out}: {len(images)} images ({what})")
    return 0
