"""Training speed: vaekit against the usual PyTorch training loops, side by side in one run.

MLP section.  The 784-400-20 MLP VAE on the 50,000 MNIST training images (batch 128, Adam
1e-3, a fresh Bernoulli binarisation of every batch), three ways, alternating epoch by
epoch so drift in the machine's speed hits all alike:
  (a)  vaekit's ``train_epoch`` with ``fast_path on`` (the hand-written step),
  (a') vaekit's ``train_epoch`` with ``fast_path off`` (autograd through models/ and objectives/),
  (b)  the usual recipe, a faithful replica of the PyTorch examples VAE: TensorDataset +
       DataLoader(shuffle=True, batch_size=128), sigmoid + binary_cross_entropy(reduction="sum"),
       default Adam, ``loss.item()`` every step; only the binarisation is added, so that
       the test ELBOs measure the same thing.
Prints the median seconds per epoch and examples per second of each, the ratios (of the
medians, and the median of the epoch-by-epoch ratios after the first, which drift cancels
from), the test ELBOs (fixed binarised test set, vaekit's evaluation code for all), and the
training FLOPs per epoch over a plain float32 matmul rate measured in the same run.

Conv section (skipped with --conv-examples 0).  The conv VAE (``arch conv``) on the first
--conv-examples training images, two ways, alternating:
  (c) vaekit's ``train_epoch``;
  (d) a plain PyTorch loop over the same encoder and decoder modules (models/networks.py):
      DataLoader, ``torch.bernoulli``, BCE-with-logits (sum) + KL, default Adam,
      ``loss.item()`` every step.

    python bench/train_speed.py [--epochs 9] [--conv-epochs 4] [--conv-examples 10000]
                                [--device cpu|cuda] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vaekit.data import load
from vaekit.data.transforms import TrainingBatches, split_input
from vaekit.eval import elbo_means
from vaekit.models import ModelConfig, build_model
from vaekit.train import TrainConfig
from vaekit.train.loop import train_epoch
from vaekit.train.optim import make_optimizer

from common import matmul_gflops  # bench/common.py (the script's own folder)


class RecipeVAE(nn.Module):
    """The PyTorch examples VAE (fc1, fc21, fc22, fc3, fc4)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def recipe_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def as_vaekit(recipe: RecipeVAE) -> nn.Module:
    """The recipe's weights in vaekit's MLP VAE (the same function), for the shared evaluation code."""
    model = build_model(ModelConfig(image_shape=(1, 28, 28), hidden=(400,), latent=20))
    enc, dec = model.encoder.net, model.decoder.net
    with torch.no_grad():
        for mine, theirs in ((enc[0], recipe.fc1), (dec[0], recipe.fc3), (dec[2], recipe.fc4)):
            mine.weight.copy_(theirs.weight), mine.bias.copy_(theirs.bias)
        enc[2].weight.copy_(torch.cat([recipe.fc21.weight, recipe.fc22.weight]))   # [m, σ] = one layer
        enc[2].bias.copy_(torch.cat([recipe.fc21.bias, recipe.fc22.bias]))
    return model.to(recipe.fc1.weight.device)


def recipe_batch_loss(model, data):
    recon_batch, mu, logvar = model(data)
    return recipe_loss(recon_batch, data, mu, logvar)


def plain_conv_loss(model, x):
    """The textbook VAE loss on vaekit's conv encoder and decoder, Σ over the batch, nats."""
    mu, logvar = model.encoder(x).chunk(2, dim=1)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    bce = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def plain_epoch(model, optimizer, loader, device, batch_loss) -> tuple[float, float]:
    """One epoch the way the PyTorch examples train: (seconds, mean loss per example in nats)."""
    model.train()
    train_loss = 0.0
    start = time.perf_counter()
    for (data,) in loader:
        data = torch.bernoulli(data.to(device))
        optimizer.zero_grad()
        loss = batch_loss(model, data)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return time.perf_counter() - start, train_loss / len(loader.dataset)


def plain_loader(images: torch.Tensor) -> DataLoader:
    """The recipe's data: ToTensor() floats in [0, 1], shuffled batches of 128."""
    return DataLoader(TensorDataset(images.float().div(255)), batch_size=128, shuffle=True)


def train_flops_per_example(sizes=((784, 400), (400, 40), (20, 400), (400, 784))) -> float:
    """Forward 2·in·out per layer; backward 2·in·out for the weight gradient and 2·in·out for the
    input gradient of every layer but the first (the data needs no gradient)."""
    fwd = sum(2 * i * o for i, o in sizes)
    return fwd + fwd + (fwd - 2 * sizes[0][0] * sizes[0][1])


def paired_ratio(slow: list[float], fast: list[float]) -> float:
    """The median of the epoch-by-epoch ratios slow/fast after the first epoch (one-time warm-up)."""
    return statistics.median(s / f for s, f in zip(slow[1:] or slow, fast[1:] or fast))


def line(label: str, seconds: list[float], n: int, elbo: float) -> str:
    med = statistics.median(seconds)
    return f"{label:<27}: {med:6.3f} s/epoch  {n / med:8.0f} examples/s  test ELBO {elbo:.2f} nats"


def mlp_section(train, test_x, args, device) -> None:
    n = len(train)
    base = TrainConfig(data="mnist", epochs=args.epochs, device=args.device)   # vaekit's defaults
    runs = {}
    for mode in ("on", "off"):
        model = build_model(ModelConfig(image_shape=train.image_shape, hidden=base.hidden, latent=base.latent),
                            seed=0).to(device)
        runs[mode] = dict(model=model, opt=make_optimizer(model, base.lr), seconds=[],
                          cfg=dataclasses.replace(base, fast_path=mode),
                          gen=torch.Generator(device=device).manual_seed(0))
    batches = TrainingBatches(train.images.to(device), "bernoulli")
    recipe = RecipeVAE().to(device)
    recipe_opt = torch.optim.Adam(recipe.parameters(), lr=1e-3)
    loader, recipe_s = plain_loader(train.images), []

    for epoch in range(1, args.epochs + 1):
        t, loss_b = plain_epoch(recipe, recipe_opt, loader, device, recipe_batch_loss)
        recipe_s.append(t)
        shown = []
        for mode, run in runs.items():
            r = train_epoch(run["model"], run["opt"], batches, run["cfg"], epoch, run["gen"])
            run["seconds"].append(r.seconds)
            shown.append(f"fast path {mode} {r.seconds:.3f} s (loss {r.train_loss:.2f})")
        print(f"epoch {epoch}: {'   '.join(shown)}   recipe {t:.3f} s (loss {loss_b:.2f})", flush=True)

    elbo = {mode: _test_elbo(run["model"], test_x) for mode, run in runs.items()}
    elbo_recipe = _test_elbo(as_vaekit(recipe), test_x)
    rate = matmul_gflops(device)
    flops = train_flops_per_example() * n
    limit = flops / (rate * 1e9)
    on, off = runs["on"]["seconds"], runs["off"]["seconds"]
    print()
    print(f"MLP 784-400-20: device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{n} training examples, {args.epochs} epochs")
    print(line("(a)  vaekit, fast path on", on, n, elbo["on"]))
    print(line("(a') vaekit, fast path off", off, n, elbo["off"]))
    print(line("(b)  usual recipe", recipe_s, n, elbo_recipe))
    med = statistics.median
    print(f"speed-up (b)/(a)           : {med(recipe_s) / med(on):.2f}x (median of epoch-by-epoch ratios after "
          f"the first: {paired_ratio(recipe_s, on):.2f}x)   ELBO difference {elbo['on'] - elbo_recipe:+.2f} nats")
    print(f"speed-up (b)/(a')          : {med(recipe_s) / med(off):.2f}x (epoch by epoch: "
          f"{paired_ratio(recipe_s, off):.2f}x)   ELBO difference {elbo['off'] - elbo_recipe:+.2f} nats")
    print(f"machine limit              : {flops / 1e9:.1f} GFLOP/epoch / {rate:.1f} GFLOP/s plain fp32 matmul = "
          f"{limit:.3f} s/epoch; (a) runs at {100 * limit / med(on):.0f}% of it")


def conv_section(train, test_x, args, device) -> None:
    n = min(args.conv_examples, len(train))
    images = train.images[:n]
    cfg = TrainConfig(data="mnist", arch="conv", epochs=args.conv_epochs, device=args.device)
    mcfg = ModelConfig(arch="conv", image_shape=train.image_shape, hidden=cfg.hidden, latent=cfg.latent)
    ours, theirs = build_model(mcfg, seed=0).to(device), build_model(mcfg, seed=0).to(device)
    our_opt = make_optimizer(ours, cfg.lr)
    their_opt = torch.optim.Adam(theirs.parameters(), lr=1e-3)   # trains theirs.encoder and .decoder only
    gen = torch.Generator(device=device).manual_seed(0)
    batches, loader = TrainingBatches(images.to(device), "bernoulli"), plain_loader(images)
    ours_s, theirs_s = [], []
    for epoch in range(1, args.conv_epochs + 1):
        t, loss_d = plain_epoch(theirs, their_opt, loader, device, plain_conv_loss)
        theirs_s.append(t)
        r = train_epoch(ours, our_opt, batches, cfg, epoch, gen)
        ours_s.append(r.seconds)
        print(f"conv epoch {epoch}: vaekit {r.seconds:.3f} s (loss {r.train_loss:.2f})   "
              f"plain loop {t:.3f} s (loss {loss_d:.2f})", flush=True)
    steps = math.ceil(n / 128)
    med = statistics.median
    print()
    print(f"conv VAE (channels {mcfg.conv_channels}, hidden {mcfg.hidden[0]}, latent {mcfg.latent}): "
          f"{n} training examples ({steps} steps) per epoch, {args.conv_epochs} epochs, "
          f"test ELBO on {len(test_x)} test images")
    print(line("(c)  vaekit", ours_s, n, _test_elbo(ours, test_x)) + f"  {1000 * med(ours_s) / steps:.1f} ms/step")
    print(line("(d)  plain PyTorch loop", theirs_s, n, _test_elbo(theirs, test_x))
          + f"  {1000 * med(theirs_s) / steps:.1f} ms/step")
    print(f"time (c)/(d)               : {med(ours_s) / med(theirs_s):.2f}x (epoch by epoch: "
          f"{1 / paired_ratio(theirs_s, ours_s):.2f}x)")


@torch.no_grad()
def _test_elbo(model, test_x) -> float:
    model.eval()
    return elbo_means(model, test_x, generator=torch.Generator(device=test_x.device).manual_seed(7))["elbo"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=9, help="MLP section epochs (0: skip it)")
    p.add_argument("--conv-epochs", type=int, default=4)
    p.add_argument("--conv-examples", type=int, default=10_000, help="conv section training images (0: skip it)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    train = load("mnist", "train", data_dir=args.data_dir)
    test_x = split_input(load("mnist", "test", data_dir=args.data_dir).images.to(device), "bernoulli", "test")
    if args.epochs > 0:
        mlp_section(train, test_x, args, device)
    if args.conv_examples > 0 and args.conv_epochs > 0:
        print()
        conv_section(train, test_x[:2000], args, device)


if __name__ == "__main__":
    main()
