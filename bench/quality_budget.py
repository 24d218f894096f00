"""The best likelihood per CPU-minute: train each config under its time budget, then measure it.

For each TOML config (default: configs/mnist-30min.toml), runs the real commands

    vaekit train --config CONFIG --data-dir DIR --out RUN [--time-budget BUDGET]
    vaekit eval RUN --k K --json --data-dir DIR

and prints, per config: the training minutes (wall, from metrics.jsonl's ``elapsed``), the
epochs, the test ELBO, the test log p(x) ± its standard error at k importance samples, and
the published figure for the same architecture (Burda et al. 2016, Table 1; Tomczak & Welling
2018).  ``--epoch-times`` first prints the seconds per epoch of each config next to the
784-400-20 VAE, each trained 3 epochs in this run.  The targets are for the full 30 minutes
and k = 5000 on the 10,000 test images (about an hour per config on 2 cores, evaluation included):

    python bench/quality_budget.py [CONFIG.toml ...] [--budget 30m] [--k 5000] [--data-dir ../shared/data/mnist]
                                   [--epoch-times | --epoch-times-only] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Published test log p(x) on dynamically binarised MNIST, nats, k = 5000, by (stochastic layers, objective, k, prior).
PUBLISHED = {
    (1, "elbo", 1, "standard"): ("VAE, 1 layer (IWAE paper, 3,280 epochs)", -86.76),
    (1, "iwae", 5, "standard"): ("IWAE k=5, 1 layer (IWAE paper)", -85.54),
    (1, "iwae", 50, "standard"): ("IWAE k=50, 1 layer (IWAE paper)", -84.78),
    (2, "elbo", 1, "standard"): ("VAE, 2 layers (IWAE paper)", -85.33),
    (2, "iwae", 50, "standard"): ("IWAE k=50, 2 layers (IWAE paper)", -82.90),
    (1, "elbo", 1, "vamp"): ("VampPrior MLP VAE (Tomczak & Welling 2018)", -85.57),
}


def vaekit(*args, timeout=None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "vaekit", *map(str, args)], capture_output=True, text=True, cwd=REPO,
                       timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"vaekit {' '.join(map(str, args))} failed:\n{r.stderr[-2000:]}")
    return r


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def published(config: dict) -> str:
    fit = config["fit"]
    key = (fit.get("stochastic_layers", 1), fit["objective"], fit["k"], fit.get("prior", "standard"))
    name, value = PUBLISHED.get(key, ("no published figure for this setting", None))
    return name if value is None else f"{name}: {value:.2f}"


def epoch_times(configs: list[Path], data_dir: str, root: Path) -> None:
    rows = [("784-400-20 VAE (the default)", ["--data", "mnist"])] + [(c.name, ["--config", c]) for c in configs]
    print("\nseconds per epoch, 3 epochs each, median of epochs 2-3 (one run, one after the other):")
    for i, (name, args) in enumerate(rows):
        out = root / f"epochs-{i}"
        vaekit("train", *args, "--data-dir", data_dir, "--epochs", 3, "--time-budget", "10h", "--log-px-every", 0,
               "--out", out)
        seconds = statistics.median(r["seconds"] for r in metrics(out)[1:])
        print(f"  {name:<40} {seconds:7.2f} s/epoch")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="*", type=Path, default=[REPO / "configs" / "mnist-30min.toml"])
    p.add_argument("--budget", help="override each config's time budget (e.g. 2m for a quick look)")
    p.add_argument("--k", type=int, default=5000, help="importance samples of the test log p(x) (default 5000)")
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    p.add_argument("--epoch-times", action="store_true", help="first, seconds per epoch next to the 784-400-20 VAE")
    p.add_argument("--epoch-times-only", action="store_true", help="the seconds per epoch alone, no budgeted runs")
    p.add_argument("--keep", type=Path, help="keep the runs in this folder (default: a temporary one)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        root = a.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if a.epoch_times or a.epoch_times_only:
            epoch_times(a.configs, a.data_dir, root)
            if a.epoch_times_only:
                return 0
        rows = []
        for i, config_file in enumerate(a.configs):
            run = root / f"{config_file.stem}-{i}"
            extra = ["--time-budget", a.budget] if a.budget else []
            print(f"training {config_file} ...", flush=True)
            vaekit("train", "--config", config_file, "--data-dir", a.data_dir, "--out", run, *extra)
            history = metrics(run)
            print(f"evaluating {run.name} at k = {a.k} ...", flush=True)
            report = json.loads(vaekit("eval", run, "--k", a.k, "--json", "--data-dir", a.data_dir).stdout)
            config = json.loads((run / "config.json").read_text())
            rows.append((config_file.name, history[-1]["elapsed"] / 60, len(history), report, published(config)))
    print(f"\n{'config':<24} {'minutes':>7} {'epochs':>6} {'test ELBO':>10} {'log p(x) (k=' + str(a.k) + ')':>20}  published")
    for name, minutes, epochs, r, pub in rows:
        print(f"{name:<24} {minutes:7.1f} {epochs:6d} {r['elbo']:10.2f} {r['log_px']:13.2f} ± {r['log_px_se']:.2f}  {pub}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
