"""Evaluate a run directory: load its model and data split, then ``eval.report.evaluate``.

Here, above ``eval``, which knows models and data but not where runs are kept.
"""

from __future__ import annotations

from pathlib import Path

from .. import validate
from ..data import load as load_dataset
from ..device import flush_denormals, resolve_device
from ..errors import ConfigError
from ..eval.config import MAX_DECODER_PASSES, MAX_K, EvalConfig
from ..eval.report import evaluate
from ..models.inputs import check_input
from .checkpoint import current
from .run import load_model, read_config

CONVENTIONS = {
    "bernoulli": "binary data: -log p(x) / (D ln 2)",
    "gaussian": "8-bit data, uniform dequantisation y = (pixel + u)/256: -(log p(y) - D ln 256) / (D ln 2)",
    "continuous": "continuous data, a density of the values themselves: -log p(x) / (D ln 2)",
}


def cost(n: int, k: int) -> str:
    return f"{n:,} examples x {k:,} samples = {n * k:,} decoder passes"


def check_k(k, n: int, force: bool) -> None:
    """Refuse a k past the documented limits unless ``force``: the run time grows as n·k."""
    validate.positive_int("k", k)
    if not force and (k > MAX_K or n * k > MAX_DECODER_PASSES):
        raise ConfigError(f"k={k:,} means {cost(n, k)} (k = 5000 on the 10,000 MNIST test images is 5e7, minutes "
                          f"on 2 cores); at most k = {MAX_K:,} and {MAX_DECODER_PASSES:.0e} passes without `force=True`",
                          setting="k")


def evaluate_run(run_dir, split: str = "test", k: int = 5000, batch_size: int = 100, seed: int = 0,
                 data: str | None = None, data_dir: str | None = None, device: str = "auto", force: bool = False,
                 on_start=None) -> dict:
    """The ``vaekit eval`` report of a run on one split; ``on_start(text)`` hears the estimated cost.

    The settings are ``EvalConfig``'s (checked by it).
    """
    run_dir = Path(run_dir)
    current(run_dir)      # one clear error first if the folder holds no trained model
    config = read_config(run_dir)
    EvalConfig(split=split, k=k, batch_size=batch_size, seed=seed, data=data, data_dir=data_dir, device=device,
               force=force)
    dev = resolve_device(device)
    model = load_model(run_dir, device=dev)
    fit = config["fit"]
    name = data or config["data"]["name"]
    dataset = load_dataset(name, split, data_dir=data_dir or (fit.get("data_dir") if data is None else None),
                           image_size=fit.get("image_size") if data is None else None)
    x = dataset.model_input(model.likelihood, device=dev)
    check_input(model, x)
    y = None
    if getattr(model, "conditional", False):   # log p(x|y): each image with its own class
        if dataset.labels is None:
            raise ConfigError(f"{run_dir} is conditional on the label, and {name} has no labels to give it",
                              setting="data")
        y = dataset.labels.to(dev)
        model.check_classes(y)
    if config["kind"] != "gmm":
        check_k(k, len(dataset), force)
        if on_start is not None:
            on_start(f"estimating log p(x): {cost(len(dataset), k)}")
    with flush_denormals(dev):
        report = evaluate(model, x, k=k, batch_size=batch_size, seed=seed, split=split,
                          continuous=dataset.continuous, y=y)
    report["bits_per_dim_convention"] = CONVENTIONS["continuous" if dataset.continuous else model.likelihood]
    report["model"] = config["kind"]
    report["data"] = name
    report["run_dir"] = str(run_dir)
    return report
