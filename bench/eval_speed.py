"""Evaluation speed: ``vaekit eval``'s work against the matrix products of the model's own layer shapes.

For each model of the README's model table (``bench/models_table.py``: the 784-400-20 MLP VAE
and its variants, each trained 3 epochs on MNIST here), or one trained run (--run-dir), or the
model of a TOML config (--config, trained 3 epochs):

  1. times ``evaluate`` on the first --n test images, in --rounds blocks: what ``vaekit eval
     --k K`` runs after loading (the ELBO, the importance-sampled log p(x), the active units),
     in the process setting the CLI makes (freed memory kept, denormals flushed);
  2. records, in a separate pass over the first two batches under ``torch.profiler``
     (``record_shapes``), every matrix product that evaluation runs (aten::mm, addmm, bmm,
     baddbmm) with its shapes: the decoder's layers at the chunk's rows, the prior's and the
     posterior's networks, the VampPrior's and the mixture prior's component tables;
  3. times each of those products alone (random float32 operands; a Linear layer's weight
     transposed, as ``nn.Linear`` passes it), and counts them up to the --n images.

The evaluation's share that is its own matrix products, (3) over (1), is the figure of merit,
measured round by round (each block's products timed right after it, so the machine's changing
speed moves both) and reported as the median round's, with the lowest and highest:
the rest (drawing codes, the log-densities, the log-sum-exp, Python) is overhead.  Issue 22's
target: at least 80 %.  The matrix products of the first two batches stand for every batch
(log p(x)'s chunks have the same shapes batch after batch); the ELBO's and the active units'
products, whose batches are larger, are counted at the first two batches' shapes (well under
1 % of the work).  Side by side for the standard VAE: the textbook per-example loop.

    python bench/eval_speed.py [--models standard,vamp,...] [--k 5000] [--n 1000] [--rounds 5] [--device cpu|cuda]
                               [--data-dir DIR] [--run-dir RUN | --config FILE.toml]
"""

from __future__ import annotations

import argparse
import collections
import math
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from torch.distributions import Bernoulli, Independent, Normal
from torch.profiler import ProfilerActivity, profile

import vaekit
from vaekit.allocator import keep_freed_memory
from vaekit.data import load
from vaekit.data.transforms import split_input
from vaekit.device import flush_denormals
from vaekit.eval import evaluate, log_px

from common import sync                 # bench/common.py (the script's own folder)
from models_table import MODELS         # the model table's models and their flags

PRODUCTS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")
TARGET = 0.80
BATCH = 100                             # evaluate's examples per batch (its default)


def recorded_products(model, x, y, k: int, device) -> collections.Counter:
    """Every matrix product ``evaluate`` runs on x, by (op, operand shapes): how many times."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with flush_denormals(device), profile(activities=activities, record_shapes=True) as prof:
        evaluate(model, x, k=k, seed=0, y=y)
    counts = collections.Counter()
    for event in prof.events():
        if event.name in PRODUCTS:
            shapes = tuple(tuple(s) for s in event.input_shapes if len(s) >= 2)   # the matrices, not the scalars
            counts[(event.name, shapes)] += 1
    return counts


def product_seconds(op: str, shapes: tuple, device, min_seconds: float = 0.1) -> float:
    """The median time of one such product alone (5 timings of enough repetitions to last min_seconds).

    addmm and baddbmm add a bias (the first shape); a Linear layer's weight comes transposed
    (addmm's mat2 (in, out) is the transpose of a contiguous (out, in) weight).
    """
    def rand(shape):
        return torch.randn(*shape, device=device)
    if op == "aten::addmm":
        bias, a, b = shapes if len(shapes) == 3 else ((shapes[1][1],), *shapes)
        args = (rand(bias), rand(a), rand(b[::-1]).t())
        fn = torch.addmm
    elif op == "aten::baddbmm":
        args = tuple(rand(s) for s in shapes)
        fn = torch.baddbmm
    else:
        args = tuple(rand(s) for s in shapes)
        fn = torch.mm if op == "aten::mm" else torch.bmm
    for _ in range(3):
        fn(*args)
    sync(device)
    t, reps = time.perf_counter(), 0
    while time.perf_counter() - t < min_seconds / 5 or reps < 3:
        fn(*args)
        reps += 1
        if reps % 8 == 0:
            sync(device)
    sync(device)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            fn(*args)
        sync(device)
        times.append((time.perf_counter() - t) / reps)
    return statistics.median(times)


def product_flops(op: str, shapes: tuple) -> int:
    """2·m·k·n multiply-adds of one product (times the batch for bmm)."""
    a, b = shapes[-2], shapes[-1]
    batch = a[0] if len(a) == 3 else 1
    return 2 * batch * a[-2] * a[-1] * b[-1]


def train_run(flags: list[str], args) -> str:
    """A fresh run of the model these ``vaekit train`` flags make, 3 epochs on MNIST: its folder."""
    run_dir = tempfile.mkdtemp(prefix="vaekit-eval-bench-")
    cmd = [sys.executable, "-m", "vaekit", "train", *flags, "--epochs", "3", "--log-px-every", "0",
           "--out", run_dir, "--device", args.device]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return run_dir


def measure(name: str, run_dir: str, args, device) -> dict:
    """Time the evaluation of one run and the matrix products of its own layer shapes, round by round; print a line.

    The --n images are evaluated in --rounds blocks, and after each block its products are timed alone
    (at the first two batches' counts per image, ``recorded_products``): each round's share is its
    products' time over its evaluation's, taken minutes apart at most, so a change in the machine's
    speed moves both.  The share reported is the median round's, with the lowest and highest.
    """
    model = vaekit.load(run_dir, device=device)
    test = load("mnist", "test", data_dir=args.data_dir)
    x = split_input(test.images[:args.n].to(device), "bernoulli", "test")
    y = test.labels[:args.n].to(device) if model.config.condition == "label" else None

    n_prof = min(args.n, 2 * BATCH)
    counts = recorded_products(model, x[:n_prof], None if y is None else y[:n_prof], args.k, device)
    eval_times, own_times, log_px_sum, elbo_sum = [], [], 0.0, 0.0
    for block in torch.arange(args.n).chunk(args.rounds):
        xb, yb = x[block.to(device)], None if y is None else y[block.to(device)]
        sync(device)
        t = time.perf_counter()
        with flush_denormals(device):
            report = evaluate(model, xb, k=args.k, seed=0, y=yb)
        sync(device)
        eval_times.append(time.perf_counter() - t)
        log_px_sum, elbo_sum = log_px_sum + report["log_px"] * len(block), elbo_sum + report["elbo"] * len(block)
        own_times.append(sum(c * product_seconds(op, shapes, device) for (op, shapes), c in counts.items())
                         * len(block) / n_prof)
    shares = sorted(o / e for o, e in zip(own_times, eval_times))
    share = statistics.median(shares)
    eval_s, own_s = sum(eval_times), sum(own_times)
    flops = sum(c * product_flops(op, shapes) for (op, shapes), c in counts.items()) * args.n / n_prof
    c = model.config
    what = (f"{'-'.join(map(str, [784, *c.hidden, c.latent]))}"
            + (f" / {'-'.join(map(str, [*c.hidden2, c.latent2]))}" if c.stochastic_layers == 2 else ""))
    print(f"{name} ({what}): evaluate {eval_s:.1f} s in {len(shares)} rounds (log p(x) {log_px_sum / args.n:.2f}, "
          f"ELBO {elbo_sum / args.n:.2f}); its {sum(counts.values()) * args.n / n_prof:,.0f} matrix products alone "
          f"({len(counts)} shapes, {flops / 1e12:.2f} TFLOP) {own_s:.1f} s = {flops / own_s / 1e9:.1f} GFLOP/s; "
          f"share {100 * share:.0f}%, median of the rounds ({100 * shares[0]:.0f}-{100 * shares[-1]:.0f}%; "
          f"{'meets' if share >= TARGET else 'below'} the {100 * TARGET:.0f}% target)", flush=True)
    return {"name": name, "model": model, "x": x, "eval_s": eval_s, "own_s": own_s, "share": share,
            "low": shares[0], "high": shares[-1]}


@torch.no_grad()
def naive_log_px(model, x, k, generator):
    """The textbook loop: one example at a time, k copies of it, a Distribution per batch."""
    out = []
    for xi in x:
        m, log_var = model.encode(xi[None])
        std = torch.exp(0.5 * log_var)
        z = m + std * torch.randn(k, m.shape[1], generator=generator, device=x.device)
        log_q = Normal(m, std).log_prob(z).sum(-1)
        log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)
        logits = model.decoder(z)
        log_lik = Independent(Bernoulli(logits=logits), 3).log_prob(xi.expand(k, *xi.shape))
        out.append(torch.logsumexp(log_lik + log_p - log_q, 0) - math.log(k))
    return torch.stack(out)


def main():
    keep_freed_memory()   # as the CLI does when it starts
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS), help=f"of {', '.join(MODELS)} (default: all)")
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--n", type=int, default=1000, help="test images to evaluate")
    p.add_argument("--rounds", type=int, default=5, help="blocks the --n images are evaluated in, each followed by "
                                                          "its products alone (default 5)")
    p.add_argument("--naive-n", type=int, default=20, help="test images for the side-by-side naive loop")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=None)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--run-dir", default=None, help="a trained run, in place of --models")
    which.add_argument("--config", default=None, help="train this TOML config's model for 3 epochs, in place of --models")
    args = p.parse_args()
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"k = {args.k}, {args.n} MNIST test images", flush=True)
    if args.run_dir:
        runs = [(args.run_dir, args.run_dir)]
    elif args.config:
        runs = [(args.config, train_run(["--config", args.config, "--time-budget", "10h"], args))]
    else:
        names = args.models.split(",")
        unknown = sorted(set(names) - set(MODELS))
        if unknown:
            sys.exit(f"eval_speed: unknown model(s) {', '.join(unknown)}; expected some of {', '.join(MODELS)}")
        runs = [(name, train_run(["--data", "mnist", *MODELS[name][1]], args)) for name in names]
    results = [measure(name, run_dir, args, device) for name, run_dir in runs]
    print("\n| model | evaluate (s) | its matrix products alone (s) | share, median round (lowest-highest) "
          "(target ≥ 80 %) |")
    print("| --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['name']} | {r['eval_s']:.1f} | {r['own_s']:.1f} | {100 * r['share']:.0f} % "
              f"({100 * r['low']:.0f}-{100 * r['high']:.0f} %) |")

    standard = [r for r in results if r["model"].config.prior == "standard" and r["model"].config.stochastic_layers == 1
                and r["model"].config.posterior == "diag" and r["model"].config.condition == "none"]
    if not standard or args.naive_n <= 0:
        return
    # the textbook loop on a few examples, and vaekit on the same few (the one-layer standard-prior VAE's)
    model, xs = standard[0]["model"], standard[0]["x"][:args.naive_n]
    t = time.perf_counter()
    naive = naive_log_px(model, xs, args.k, torch.Generator(device=device).manual_seed(0))
    sync(device)
    naive_s = time.perf_counter() - t
    t = time.perf_counter()
    ours_small = log_px(model, xs, k=args.k, generator=torch.Generator(device=device).manual_seed(1))
    sync(device)
    ours_small_s = time.perf_counter() - t
    print(f"\nside by side on {args.naive_n} images: naive per-example loop {naive_s:.2f} s "
          f"({args.naive_n / naive_s:.2f} images/s), vaekit {ours_small_s:.2f} s "
          f"({args.naive_n / ours_small_s:.2f} images/s): {naive_s / ours_small_s:.2f}x; "
          f"estimates {naive.mean().item():.2f} vs {ours_small.mean().item():.2f} nats")


if __name__ == "__main__":
    main()
