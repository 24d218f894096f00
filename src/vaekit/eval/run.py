"""Evaluate a run directory: load its model and data split, then ``report.evaluate``."""

from __future__ import annotations

from pathlib import Path

from .. import checkpoint
from ..data import load as load_dataset
from ..data.transforms import split_input
from ..device import resolve_device
from .report import evaluate

CONVENTIONS = {
    "bernoulli": "binary data: -log p(x) / (D ln 2)",
    "gaussian": "8-bit data, uniform dequantisation y = (pixel + u)/256: -(log p(y) - D ln 256) / (D ln 2)",
}


def evaluate_run(run_dir, split: str = "test", k: int = 5000, batch_size: int = 100, seed: int = 0,
                 data: str | None = None, data_dir: str | None = None, device: str = "auto") -> dict:
    run_dir = Path(run_dir)
    checkpoint.current(run_dir)      # one clear error if the folder holds no model
    config = checkpoint.read_config(run_dir)
    dev = resolve_device(device)
    model = checkpoint.load_model(run_dir, device=dev)
    # where the run found its data: a train run's settings, or a GMM run's data record
    saved = {**config.get("data", {}), **config.get("train", {})}
    name = data or config["data"]["name"]
    dataset = load_dataset(name, split, data_dir=data_dir or saved.get("data_dir"),
                           image_size=saved.get("image_size") if data is None else None)
    x = split_input(dataset.images.to(dev), model.likelihood, split)
    report = evaluate(model, x, k=k, batch_size=batch_size, seed=seed, split=split)
    report["bits_per_dim_convention"] = CONVENTIONS[model.likelihood]
    report["model"] = config.get("kind") or config["train"]["model"]
    report["data"] = name
    report["run_dir"] = str(run_dir)
    return report
