"""Training on 1 and 2 processes at the same global batch size: examples per second, scaling, all-reduce time.

Trains the 784-400-20 MLP VAE on MNIST's 50,000 training images (batch 128, the default
hand-written step) with vaekit's own ``train_epoch``, three ways, one after the other:
  (a) 1 process, 1 thread;
  (b) 1 process, 2 threads: the usual way to use two cores for one run;
  (c) 2 processes of 1 thread each under torchrun (gloo on loopback), each taking half of every
      global batch of 128 and summing gradients with one all-reduce per step.
Prints the median epoch time and examples per second of each, the scaling efficiency
(c) / (2 x (a)) and the ratio (c) / (b), and for (c) the step time split into compute and
all-reduce (time inside ``distributed.sum_gradients``, measured on rank 0).  On this 2-core
machine the limit is the cores: (b) and (c) both have two, so (c) / (b) says whether two
processes use them better than two threads of one; a machine with more cores (or GPUs) per
process is where (c) grows past one process.

    python bench/ddp_scaling.py [--epochs 3] [--data-dir ../shared/data/mnist] [--data mnist]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def worker(args) -> None:
    """One training job (a process, or one of torchrun's ranks); rank 0 prints a JSON line."""
    import torch

    torch.set_num_threads(args.threads)
    from vaekit import distributed
    from vaekit.data import load
    from vaekit.data.transforms import TrainingBatches
    from vaekit.models import ModelConfig, build_model
    from vaekit.train import TrainConfig
    from vaekit.train.loop import train_epoch
    from vaekit.train.optim import make_optimizer

    allreduce = [0.0]
    plain_sum = distributed.sum_gradients

    def timed_sum(params, scale):   # the all-reduce's share of the step, measured around the call
        start = time.perf_counter()
        plain_sum(params, scale)
        allreduce[0] += time.perf_counter() - start

    distributed.sum_gradients = timed_sum
    with distributed.session(torch.device("cpu")):
        train = load(args.data, "train", data_dir=args.data_dir)
        cfg = TrainConfig(data=args.data, epochs=args.epochs, batch_size=args.batch_size, device="cpu")
        model = build_model(ModelConfig(image_shape=tuple(train.images.shape[1:]), hidden=(400,), latent=20))
        optimizer = make_optimizer(model, cfg.lr)
        batches = TrainingBatches(train.images, "bernoulli")
        g = torch.Generator().manual_seed(0)
        seconds, shares = [], []
        for epoch in range(1, args.epochs + 1):
            allreduce[0] = 0.0
            result = train_epoch(model, optimizer, batches, cfg, epoch, g)
            seconds.append(result.seconds)
            shares.append(allreduce[0])
        if distributed.is_main():
            steps = -(-len(train) // args.batch_size)
            print(json.dumps({"world": distributed.world_size(), "threads": args.threads, "n": len(train),
                              "steps": steps, "seconds": seconds, "allreduce": shares,
                              "train_loss": result.train_loss}), flush=True)
    if distributed.launched():
        distributed.exit_now(0)


def launch(args, procs: int, threads: int) -> dict:
    base = [str(Path(__file__).resolve()), "--worker", "--threads", str(threads), "--epochs", str(args.epochs),
            "--data", args.data, "--batch-size", str(args.batch_size)] + (["--data-dir", args.data_dir] if args.data_dir else [])
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": str(threads)}
    if procs == 1:
        command = [sys.executable, *base]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(procs), *base]
    r = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{r.stderr[-3000:]}")
    return json.loads([line for line in r.stdout.splitlines() if line.startswith("{")][-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs per configuration (the first is warm-up)")
    p.add_argument("--data", default="mnist")
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    p.add_argument("--batch-size", type=int, default=128, help="the global batch size (default 128)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return 0
    rows = {}
    for name, procs, threads in (("(a) 1 process x 1 thread", 1, 1), ("(b) 1 process x 2 threads", 1, 2),
                                 ("(c) 2 processes x 1 thread", 2, 1)):
        print(f"running {name} ...", flush=True)
        rows[name] = launch(args, procs, threads)
    print(f"\n{args.data}, {rows[name]['n']:,} training examples, global batch {args.batch_size} "
          f"({rows[name]['steps']} steps an epoch), 784-400-20 VAE, {args.epochs} epochs each (median of all but the first)")
    print(f"{'':<30} {'s/epoch':>8} {'examples/s':>11} {'train loss':>11}")
    rate = {}
    for name, r in rows.items():
        s = statistics.median(r["seconds"][1:] or r["seconds"])
        rate[name] = r["n"] / s
        print(f"{name:<30} {s:8.2f} {rate[name]:11.0f} {r['train_loss']:11.2f}")
    a, b, c = (rate[k] for k in rows)
    two = rows["(c) 2 processes x 1 thread"]
    s = statistics.median(two["seconds"][1:] or two["seconds"])
    ar = statistics.median(two["allreduce"][1:] or two["allreduce"])
    print(f"\nscaling efficiency (c) / (2 x (a)): {c / (2 * a):.2f}     (c) / (b): {c / b:.2f}     (b) / (a): {b / a:.2f}")
    print(f"(c) per step: {1000 * s / two['steps']:.2f} ms = compute {1000 * (s - ar) / two['steps']:.2f} ms "
          f"+ all-reduce {1000 * ar / two['steps']:.2f} ms ({100 * ar / s:.0f} %), measured on rank 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
