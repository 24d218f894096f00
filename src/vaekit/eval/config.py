"""Evaluation settings: one frozen dataclass, the source of ``vaekit eval``'s flags.

``evaluate_run`` (``rundir.evaluate``) checks its arguments through it, so the library and the CLI
refuse the same things.  No torch here: the CLI reads it to build its parser.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .. import validate
from ..settings import check_choices, device_setting, setting

MAX_K = 100_000                  # importance samples per example without force
MAX_DECODER_PASSES = 10 ** 9     # examples x k without force (MNIST test at k = 5000 is 5e7: minutes)


@dataclass(frozen=True)
class EvalConfig:
    """How a run is evaluated: on which split and data, with how many importance samples, where."""

    split: str = setting("test", "train, val or test (default test)")
    k: int = setting(5000, f"importance samples per example (default 5000; at most {MAX_K} without --force)")
    batch_size: int = setting(100, "examples per batch (default 100)")
    seed: int = setting(0, "seed of the importance samples (default 0)")
    data: str | None = setting(None, "evaluate on another dataset than the run's (same image shape)")
    data_dir: str | None = setting(None, "folder holding the dataset's files")
    device: str = device_setting()
    force: bool = setting(False, "allow a k past the limits (the run time grows with k)")

    def __post_init__(self):
        validate.text("split", self.split)   # which names: the dataset registry says (data.splits)
        validate.positive_int("k", self.k)
        validate.positive_int("batch_size", self.batch_size)
        validate.seed("seed", self.seed)
        validate.text("data", self.data, optional=True)
        validate.text("data_dir", self.data_dir, optional=True)
        check_choices(self)
        validate.boolean("force", self.force)

    def to_dict(self) -> dict:
        return asdict(self)
