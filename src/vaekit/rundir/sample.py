"""Draws from a trained run: ``vaekit sample``'s settings and the images they ask for.

Here beside ``evaluate.py``: it reads a run directory and asks its model for images; the CLI
writes them as a PNG (``viz.grids``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .. import validate
from ..errors import ConfigError
from ..settings import check_choices, device_setting, setting

MAX_SAMPLES = 1024


@dataclass(frozen=True)
class SampleConfig:
    """How many images to draw from a run, of which class (a conditional run), with which seed, where."""

    n: int = setting(64, f"images to draw (default 64; per class for a conditional run without --label; "
                         f"at most {MAX_SAMPLES})")
    label: int | None = setting(None, "the class to draw, 0 to C-1 (a conditional run, --condition label, only)",
                                metavar="Y")
    seed: int = setting(0, "seed of the draws (default 0)")
    out: str = setting("samples.png", "the PNG file to write (default samples.png)", metavar="FILE")
    device: str = device_setting()

    def __post_init__(self):
        validate.integer("n", self.n, 1, MAX_SAMPLES)
        if self.label is not None:
            validate.integer("label", self.label, 0)
        validate.seed("seed", self.seed)
        validate.text("out", self.out)
        check_choices(self)

    def to_dict(self) -> dict:
        return asdict(self)


def sample_run(run_dir, cfg: SampleConfig):
    """The images ``cfg`` asks of the run in ``run_dir``: (images (N, C, H, W) in [0, 1] on the CPU, rows of the
    grid, what they are in words).  A conditional run without a label: n per class, one row each."""
    import torch

    from ..device import resolve_device
    from .run import load_model, read_config

    if read_config(run_dir)["kind"] == "gmm":
        raise ConfigError(f"{run_dir} is a gmm run; sampling draws from vae and ae runs (a mixture's samples.png "
                          "is in its run directory)", setting="run_dir")
    device = resolve_device(cfg.device)
    model = load_model(run_dir, device=device)
    g = torch.Generator(device=device).manual_seed(cfg.seed)
    if not model.conditional:
        if cfg.label is not None:
            raise ConfigError(f"label {cfg.label}: {run_dir} is not conditional (trained without condition "
                              "'label'), so it draws no chosen class", setting="label")
        images, rows, what = model.sample(cfg.n, generator=g), 8, "p(z)"
    elif cfg.label is not None:
        images, rows, what = model.sample(cfg.n, generator=g, y=cfg.label), 8, f"class {cfg.label}"
    else:
        classes = model.config.classes
        y = torch.arange(classes, device=device).repeat_interleave(cfg.n)
        images, rows = model.sample(len(y), generator=g, y=y), classes
        what = f"{classes} classes, one row each"
    return images.clamp(0, 1).cpu(), rows, what
