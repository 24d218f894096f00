"""bf16 matrix products (``--precision bf16``) against float32, side by side: seconds per epoch and the ELBO.

Trains the same model (same seed, same data order) on MNIST for the same number of epochs:
  (a) float32, the default hand-written step (``fast_path auto``);
  (b) float32 through autograd (``fast_path off``), the path bf16 runs on;
  (c) ``precision bf16``: autograd under ``torch.autocast(dtype=bfloat16)``;
then evaluates each on the fixed binarised test set in float32 (the same code for all) and
prints the median seconds per epoch (all but the first), the test ELBO, the ratios and the
ELBO difference (c) − (b).  bf16 is never the default unless it holds the ELBO within 0.3
nats of float32.

    python bench/precision.py [--epochs 4] [--hidden 400] [--latent 20] [--data-dir ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from vaekit.data import load
from vaekit.data.transforms import TrainingBatches
from vaekit.errors import ConfigError
from vaekit.eval import elbo_means
from vaekit.models import ModelConfig, build_model
from vaekit.train import TrainConfig
from vaekit.train.loop import train_epoch
from vaekit.train.optim import make_optimizer
from vaekit.train.run import check_bf16

REPO = Path(__file__).resolve().parents[1]


def train(cfg: TrainConfig, train_images: torch.Tensor) -> tuple[torch.nn.Module, list[float]]:
    """``cfg.epochs`` epochs of vaekit's own loop (``train_epoch``), without ``fit``'s checks: ``fit``
    refuses bf16 on a CPU without bfloat16 instructions, and this measures that case."""
    model = build_model(ModelConfig(image_shape=tuple(train_images.shape[1:]), hidden=cfg.hidden, latent=cfg.latent),
                        seed=cfg.seed)
    optimizer = make_optimizer(model, cfg.lr)
    batches = TrainingBatches(train_images, "bernoulli")
    g = torch.Generator().manual_seed(cfg.seed)
    seconds = [train_epoch(model, optimizer, batches, cfg, epoch, g).seconds for epoch in range(1, cfg.epochs + 1)]
    model.eval()
    return model, seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--hidden", default="400")
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"))
    a = p.parse_args()
    train_images = load("mnist", "train", data_dir=a.data_dir).images
    test = load("mnist", "test", data_dir=a.data_dir).model_input("bernoulli")
    native = "native" if _has_bf16() else "EMULATED (no avx512_bf16/amx_bf16: fit refuses it)"
    rows = []
    for name, precision, fast_path in (("(a) fp32, hand-written step", "fp32", "auto"),
                                       ("(b) fp32, autograd", "fp32", "off"),
                                       ("(c) bf16 autocast, autograd", "bf16", "auto")):
        cfg = TrainConfig(data="mnist", data_dir=a.data_dir, hidden=a.hidden, latent=a.latent, epochs=a.epochs,
                          precision=precision, fast_path=fast_path, log_px_every=0, device="cpu", seed=0)
        print(f"training {name} ...", flush=True)
        model, seconds = train(cfg, train_images)
        elbo = elbo_means(model, test, seed=0)["elbo"]
        rows.append((name, statistics.median(seconds[1:] or seconds), elbo))
    print(f"\nMNIST, 784-{a.hidden.replace(',', '-')}-{a.latent} VAE, {a.epochs} epochs each, "
          f"torch {torch.__version__}, CPU {torch.backends.cpu.get_cpu_capability()}, bfloat16 {native}")
    print(f"{'':<30} {'s/epoch':>8} {'test ELBO':>10}")
    for name, s, elbo in rows:
        print(f"{name:<30} {s:8.2f} {elbo:10.2f}")
    (_, sa, ea), (_, sb, eb), (_, sc, ec) = rows
    print(f"\nspeed-up (b)/(c): {sb / sc:.2f}x    (a)/(c): {sa / sc:.2f}x    "
          f"ELBO (c) - (b): {ec - eb:+.2f} nats    (c) - (a): {ec - ea:+.2f} nats")
    print("bf16 holds the ELBO within 0.3 nats" if abs(ec - eb) <= 0.3 else "bf16 does NOT hold the ELBO within 0.3 nats")
    return 0


def _has_bf16() -> bool:
    try:
        check_bf16(torch.device("cpu"))
        return True
    except ConfigError:
        return False


if __name__ == "__main__":
    sys.exit(main())
