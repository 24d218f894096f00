"""The README's model table: every model vaekit builds, trained under the same time budget on MNIST.

For each model (the same 784-400-20 MLP and Bernoulli p(x|z); only the part named changes), runs
the real commands

    vaekit train --data mnist --data-dir DIR --time-budget BUDGET --epochs 100000 --lr-schedule cosine
                 --log-px-every 0 --out RUN FLAGS...
    vaekit eval RUN --k K --json --data-dir DIR

one after the other (nothing else should run meanwhile), and prints a Markdown table: the model,
its flags, the median seconds per epoch, the epochs that fitted in the budget, the test ELBO and
the test log p(x) ± its standard error at k importance samples on the full test set (10,000
images), nats per example.  The conditional model's numbers are log p(x|y), each test image
given its own label.  The issue's table: the 5-minute budget, k = 1000 (about 45 minutes for
the six models on 2 cores):

    python bench/models_table.py [--budget 5m] [--k 1000] [--data-dir ../shared/data/mnist]
                                 [--models standard,vamp,...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MODELS = {   # name -> (description, flags beyond the shared ones)
    "standard": ("VAE, N(0, I) prior, diagonal q", []),
    "vamp": ("VampPrior, K = 500", ["--prior", "vamp", "--pseudo-inputs", "500"]),
    "mog": ("learned mixture prior, K = 10", ["--prior", "mog", "--prior-components", "10"]),
    "two-layer": ("two stochastic layers, z2 of 10", ["--stochastic-layers", "2", "--latent2", "10",
                                                      "--hidden2", "100"]),
    "iaf": ("IAF posterior, 2 steps", ["--posterior", "iaf", "--flow-steps", "2"]),
    "conditional": ("conditional on the label (log p(x|y))", ["--condition", "label"]),
}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run(cmd: list[str]) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"models_table: {' '.join(cmd)} failed:\n{r.stderr.strip()}")
    return r.stdout


def main() -> int:
    p = argparse.ArgumentParser(description="Every model under the same time budget on MNIST: the README's table.")
    p.add_argument("--budget", default="5m", help="training time per model (default 5m)")
    p.add_argument("--k", type=int, default=1000, help="importance samples for log p(x) (default 1000)")
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated, from " + ", ".join(MODELS))
    p.add_argument("--keep", help="keep the runs in this folder (default: a temporary one)")
    args = p.parse_args()
    names = args.models.split(",")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"models_table: unknown model(s) {unknown}; expected some of {list(MODELS)}")
    vaekit = [sys.executable, "-m", "vaekit"]
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="models-table-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"{cpu_name()}, {os.cpu_count()} cores; budget {args.budget} per model, k = {args.k}, "
          f"MNIST test (10,000), 784-400-20 MLP, Bernoulli p(x|z), cosine lr 1e-3", flush=True)
    rows = []
    for name in names:
        description, flags = MODELS[name]
        out = root / name
        run([*vaekit, "train", "--data", "mnist", "--data-dir", args.data_dir, "--time-budget", args.budget,
             "--epochs", "100000", "--lr-schedule", "cosine", "--log-px-every", "0", "--out", str(out), *flags])
        metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        report = json.loads(run([*vaekit, "eval", str(out), "--k", str(args.k), "--json", "--data-dir",
                                 args.data_dir]))
        rows.append((description, " ".join(flags) or "(defaults)", statistics.median(m["seconds"] for m in metrics),
                     len(metrics), report["elbo"], report["log_px"], report["log_px_se"]))
        print(f"  {name}: {len(metrics)} epochs, ELBO {report['elbo']:.2f}, log p(x) {report['log_px']:.2f} "
              f"± {report['log_px_se']:.2f}", flush=True)
    print()
    print(f"| model | flags | s / epoch | epochs in {args.budget} | test ELBO | test log p(x), k = {args.k} |")
    print("|---|---|---|---|---|---|")
    for description, flags, seconds, epochs, elbo, lp, se in rows:
        print(f"| {description} | `{flags}` | {seconds:.2f} | {epochs} | {elbo:.2f} | {lp:.2f} ± {se:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
