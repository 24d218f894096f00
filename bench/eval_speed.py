"""Evaluation speed: ``vaekit eval --k 5000`` on the MNIST test set, against the matmul rate.

Trains (or takes, with --run-dir) the 784-400-20 MLP VAE, or with --config the model of a
TOML config (``configs/``: the two-layer model, the VampPrior), for 3 epochs, then times the
importance-sampled log p(x) with k samples on the test split, and reports the FLOPs per
second of wall time of the work done per sample (the decoder's matrix products; for two
stochastic layers also q(z2|z1) and p(z1|z2); for the VampPrior also its K components)
next to a plain float32 matmul rate measured in the same run, just before and just after.
The process keeps freed memory for reuse and flushes denormals, as ``vaekit eval`` does.
Side by side, for the one-layer standard-prior VAE, on the first --naive-n test images, the
usual way of computing the same estimate (per example: repeat x k times, decode, Bernoulli
log_prob, logsumexp).

    python bench/eval_speed.py [--k 5000] [--n 10000] [--device cpu|cuda] [--run-dir RUN | --config FILE.toml]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time

import torch
from torch.distributions import Bernoulli, Independent, Normal

import vaekit
from vaekit.allocator import keep_freed_memory
from vaekit.data import load
from vaekit.data.transforms import split_input
from vaekit.device import flush_denormals
from vaekit.eval import evaluate, log_px

from common import matmul_gflops, sync  # bench/common.py (the script's own folder)


def linear_flops(module) -> int:
    """Multiply-adds of one pass through a module's linear layers, x2: Σ 2·in·out."""
    return sum(2 * m.in_features * m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear))


def sample_flops(model) -> int:
    """FLOPs done per importance sample: the decoder; q(z2|z1) and p(z1|z2) for two stochastic
    layers; for the VampPrior, its K components' log-densities, one product of [z, z²] (2L)
    with a (2L, K) table: 2·2L·K."""
    flops = linear_flops(model.decoder)
    for name in ("encoder2", "prior1"):
        if hasattr(model, name):
            flops += linear_flops(getattr(model, name))
    if model.config.prior == "vamp":
        flops += 2 * 2 * model.latent_dim * model.config.pseudo_inputs
    return flops


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
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--n", type=int, default=10000, help="test images for the vaekit timing")
    p.add_argument("--naive-n", type=int, default=20, help="test images for the side-by-side naive loop")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=None)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--run-dir", default=None, help="a trained run (default: train the 784-400-20 VAE 3 epochs)")
    which.add_argument("--config", default=None, help="train this TOML config's model for 3 epochs instead")
    args = p.parse_args()
    device = torch.device(args.device)
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = tempfile.mkdtemp(prefix="vaekit-eval-bench-")
        model_args = ["--config", args.config, "--time-budget", "10h"] if args.config else ["--data", "mnist"]
        cmd = [sys.executable, "-m", "vaekit", "train", *model_args, "--epochs", "3", "--log-px-every", "0",
               "--out", run_dir, "--device", args.device]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    model = vaekit.load(run_dir, device=device)
    test = load("mnist", "test", data_dir=args.data_dir)
    x = split_input(test.images[:args.n].to(device), "bernoulli", "test")

    # vaekit: what `vaekit eval --k K` runs after loading (ELBO, log p(x), active units), in the
    # process setting the CLI makes (allocator.keep_freed_memory); the matmul rate before and
    # after it, as this machine's speed drifts over a minute
    rate_before = matmul_gflops(device)
    sync(device)
    t = time.perf_counter()
    with flush_denormals(device):
        report = evaluate(model, x, k=args.k, seed=0)
    sync(device)
    ours_s = time.perf_counter() - t
    rate_after = matmul_gflops(device)
    rate = (rate_before + rate_after) / 2
    flops = sample_flops(model) * args.k * args.n
    achieved = flops / ours_s / 1e9
    c = model.config
    what = (f"{type(model).__name__} {'-'.join(map(str, [784, *c.hidden, c.latent]))}"
            + (f" / {'-'.join(map(str, [*c.hidden2, c.latent2]))}" if c.stochastic_layers == 2 else "")
            + (f", VampPrior K = {c.pseudo_inputs}" if c.prior == "vamp" else ""))
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; {what}")
    print(f"vaekit log p(x), k = {args.k}, {args.n} MNIST test images: {ours_s:.1f} s wall, "
          f"log p(x) {report['log_px']:.2f} ± {report['log_px_se']:.2f} nats, ELBO {report['elbo']:.2f}")
    print(f"per-sample work: {flops / 1e12:.2f} TFLOP in {ours_s:.1f} s = {achieved:.1f} GFLOP/s; plain fp32 matmul "
          f"{rate:.1f} GFLOP/s (before {rate_before:.1f}, after {rate_after:.1f}); ratio {100 * achieved / rate:.0f}%")
    if c.stochastic_layers != 1 or c.prior != "standard":
        return   # the textbook loop below is the one-layer standard-prior VAE's
    # the naive loop on a few examples, and vaekit on the same few
    xs = x[:args.naive_n]
    t = time.perf_counter()
    naive = naive_log_px(model, xs, args.k, torch.Generator(device=device).manual_seed(0))
    sync(device)
    naive_s = time.perf_counter() - t
    t = time.perf_counter()
    ours_small = log_px(model, xs, k=args.k, generator=torch.Generator(device=device).manual_seed(1))
    sync(device)
    ours_small_s = time.perf_counter() - t
    print(f"side by side on {args.naive_n} images: naive per-example loop {naive_s:.2f} s "
          f"({args.naive_n / naive_s:.2f} images/s), vaekit {ours_small_s:.2f} s "
          f"({args.naive_n / ours_small_s:.2f} images/s): {naive_s / ours_small_s:.2f}x; "
          f"estimates {naive.mean().item():.2f} vs {ours_small.mean().item():.2f} nats")


if __name__ == "__main__":
    main()
