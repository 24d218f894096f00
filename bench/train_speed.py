"""Training speed: vaekit against the usual PyTorch VAE recipe, side by side in one run.

Both train the 784-400-20 MLP VAE on the 50,000 MNIST training images (batch 128, Adam
1e-3, a fresh Bernoulli binarisation of every batch) for the same number of epochs,
alternating epoch by epoch so drift in the machine's speed hits both alike.  Prints the
median seconds per epoch and examples per second of each, their ratio (the ratio of the
medians, and the median of the epoch-by-epoch ratios, which drift cancels from), both test ELBOs
(fixed binarised test set, same evaluation code), and the training FLOPs per epoch over a
plain float32 matmul rate measured in the same run: the machine's limit for this model.

The recipe (b) is a faithful replica of the PyTorch examples VAE: TensorDataset +
DataLoader(shuffle=True, batch_size=128), sigmoid + binary_cross_entropy(reduction="sum"),
default Adam, ``loss.item()`` every step.  The only change is the binarisation, so that
the two test ELBOs measure the same thing.

    python bench/train_speed.py [--epochs 5] [--device cpu|cuda] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Independent
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
        h1 = F.relu(self.fc1(x.view(-1, 784)))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return torch.sigmoid(self.decode_logits(z)), mu, logvar

    def decode(self, z):   # for the shared evaluation code only
        return Independent(Bernoulli(logits=self.decode_logits(z).view(-1, 1, 28, 28), validate_args=False), 3)


def recipe_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def recipe_epoch(model, optimizer, loader, device):
    model.train()
    train_loss = 0.0
    start = time.perf_counter()
    for (data,) in loader:
        data = torch.bernoulli(data.to(device))
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = recipe_loss(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return time.perf_counter() - start, train_loss / len(loader.dataset)


def train_flops_per_example(sizes=((784, 400), (400, 40), (20, 400), (400, 784))) -> float:
    """Forward 2·in·out per layer; backward 2·in·out for the weight gradient and 2·in·out for the
    input gradient of every layer but the first (the data needs no gradient)."""
    fwd = sum(2 * i * o for i, o in sizes)
    return fwd + fwd + (fwd - 2 * sizes[0][0] * sizes[0][1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)

    train = load("mnist", "train", data_dir=args.data_dir)
    test = load("mnist", "test", data_dir=args.data_dir)
    n = len(train)
    test_x = split_input(test.images.to(device), "bernoulli", "test")

    cfg = TrainConfig(data="mnist", epochs=args.epochs, device=args.device)   # vaekit's defaults
    ours = build_model(ModelConfig(image_shape=train.image_shape, hidden=cfg.hidden, latent=cfg.latent), seed=0)
    ours.to(device)
    our_opt = make_optimizer(ours, cfg.lr)
    gen = torch.Generator(device=device).manual_seed(0)
    batches = TrainingBatches(train.images.to(device), "bernoulli")

    theirs = RecipeVAE().to(device)
    their_opt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    dataset = TensorDataset(train.images.float().div(255))   # the recipe's ToTensor() floats
    loader = DataLoader(dataset, batch_size=128, shuffle=True)

    ours_s, theirs_s = [], []
    for epoch in range(1, args.epochs + 1):
        t, loss_b = recipe_epoch(theirs, their_opt, loader, device)
        theirs_s.append(t)
        r = train_epoch(ours, our_opt, batches, cfg, epoch, gen)
        ours_s.append(r.seconds)
        print(f"epoch {epoch}: vaekit {r.seconds:.3f} s (loss {r.train_loss:.2f})   "
              f"recipe {t:.3f} s (loss {loss_b:.2f})", flush=True)

    g1, g2 = torch.Generator(device=device).manual_seed(7), torch.Generator(device=device).manual_seed(7)
    ours.eval(), theirs.eval()
    elbo_ours = elbo_means(ours, test_x, generator=g1)["elbo"]
    elbo_theirs = elbo_means(theirs, test_x, generator=g2)["elbo"]
    rate = matmul_gflops(device)
    flops = train_flops_per_example() * n
    limit = flops / (rate * 1e9)
    med_ours, med_theirs = statistics.median(ours_s), statistics.median(theirs_s)
    paired = statistics.median(t / o for t, o in zip(theirs_s[1:] or theirs_s, ours_s[1:] or ours_s))
    # the first epoch includes one-time warm-up; the medians over >= 3 epochs do not see it
    print()
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{n} training examples, {args.epochs} epochs")
    print(f"(a) vaekit        : {med_ours:.3f} s/epoch  {n / med_ours:9.0f} examples/s  "
          f"test ELBO {elbo_ours:.2f} nats")
    print(f"(b) usual recipe  : {med_theirs:.3f} s/epoch  {n / med_theirs:9.0f} examples/s  "
          f"test ELBO {elbo_theirs:.2f} nats")
    print(f"speed-up (b)/(a)  : {med_theirs / med_ours:.2f}x (median of epoch-by-epoch ratios after the first: "
          f"{paired:.2f}x)   ELBO difference {elbo_ours - elbo_theirs:+.2f} nats")
    print(f"machine limit     : {flops / 1e9:.1f} GFLOP/epoch / {rate:.1f} GFLOP/s plain fp32 matmul = "
          f"{limit:.3f} s/epoch; vaekit runs at {100 * limit / med_ours:.0f}% of it")


if __name__ == "__main__":
    main()
