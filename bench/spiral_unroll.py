"""Experiments for issue 21, section 3: getting the 1-D-latent VAE out of its local optimum on the spiral.

One training run per call, on one thread, then the lecture's measures: the test split's
importance-sampled log p(x) (k = 64, as ``lecture/sections/mixture.py``) minus the exact
log-density (the ceiling), the validation score, and the mean distance from the spiral to the
decoded mean curve μ(z) at 200 prior quantiles (the noise σ is 0.03).  Prints one JSON line;
``--trace`` prints the curve distance, the KL and the decoder's std every epoch, ``--plot`` draws
the curve at a few epochs.  The model is the lecture's spiral-vae (hidden 64,64, latent 1,
Gaussian decoder, batch 128, Adam 1e-3, KL warm-up 10 epochs, 30 epochs); the options change
only its training, and use the data x alone (never the spiral's parameter t):

  --floor F0 --floor-end F1 --floor-epochs N [--floor-stop M]: f falls geometrically from F0 to
      F1 over N epochs (held at F1 until epoch M), then 0; while f > 0 the decoder's std in the
      loss is (--mode) add: sqrt(var + f²) (a floor), max: max(std, f), cap: 1/var' = 1/var + 1/f²,
      fixed: f itself (deterministic annealing: f is a temperature), fixedhead: f itself, and the
      decoder's own variance output fitted beside it to the posterior's residuals with the means
      held fixed (an M-step), so that it is ready when f is switched off;
  --iwae K [--iwae-after | --k-after K2]: the IWAE bound with K samples while f > 0 (after it:
      the ELBO, or K / K2 samples);
  --curriculum N [--c0 C --hold H --centre mean|half]: train first on the fraction C of points
      nearest the centre (|x − centre|, the data's own radius), admitting the rest linearly over
      N epochs after H.

What it found (2-core CPU shared with 3 other jobs, so seconds vary by up to 2x; gap = test
log p(x) − ceiling, nats per point; dist = curve distance):

  the lecture's recipe (seed 0)                                   gap −0.574  dist 0.151    3 s
  additive floor 0.25→0.03 over 20 of 30 epochs (seeds 0, 1, 2)   gap −0.60 … −0.72: the model's own
      variance grows back above the floor and the code collapses (KL → 0)
  radius curriculum over 20 of 30 epochs (seeds 0, 1, 2)          gap −0.72, code collapsed
  variance fixed at f, 0.3→0.02 over 40 of 48 (ELBO; seeds 0–4)   dist 0.06–0.09, gap −0.67 … −0.70:
      the outer turn unrolls, the inner half turn is cut across; the untrained variance output
      taking over at the end undoes part of it
  radius curriculum + fixed f (several settings)                  dist 0.06–0.12: the inner end of
      the curve is pulled out to the next arm as farther points arrive
  IWAE k = 16 + fixed f 0.3→0.02 over 40 (seed 0)                 dist 0.011 at epoch 40: unrolled;
      the ELBO afterwards (k = 1, the model's own variance) undoes it again (dist 0.10–0.12)
  IWAE k = 16 + additive floor (seed 0)                           dist 0.14: the floor does not do it
  IWAE k = 16 + fixedhead 0.3→0.02 over 40, IWAE k = 16 to the end, 48 epochs (--warmup 0):
      seed 0  gap −0.187  dist 0.012  14 s;  seed 1  −0.194  0.016  14 s;  seed 2  −0.233  0.018  23 s
      60 epochs: −0.144 (k = 1024: −0.114); 100 epochs: −0.139; hidden 128,128: −0.159;
      cosine lr 2e-3: −0.208; the last 10 epochs at k = 64: −0.142 (k = 1024: −0.096)
  spiral-d128: the lecture's recipe −22.2 (dist 0.23); fixedhead: NaN in epoch 1 (the variance
      fit's term); fixed without it: −6.83 (dist 0.094)

So the curve unrolls (dist < σ in 3 of 3 seeds) with IWAE under an annealed *fixed* decoder
variance, but the score stays 0.14–0.23 nats below the ceiling (the issue asks 0.05), at 4–7
times the lecture's training time, and not yet stable in D = 128.

The recipe is now a training option, ``vaekit train --objective iwae --k 16 --anneal-std 0.3,0.02
--anneal-std-epochs 40`` (``objectives.fixed_std``), with one change: the variance fit holds the codes
fixed too (here, "fixedhead", its gradient reached the encoder through the codes; in D = 128 that
moved every point's code to one wide posterior, q's mean near 3.9 and variance near e⁴, and the
loss to NaN within the first epoch).  bench/spiral_recipe.py measures it as the lecture does.

    OMP_NUM_THREADS=1 .venv/bin/python bench/spiral_unroll.py --seed 0 --warmup 0 --iwae 16 \
        --iwae-after --mode fixedhead --floor 0.3 --floor-end 0.02 --floor-epochs 40 --epochs 48
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from torch.distributions import Independent, Normal  # noqa: E402

from vaekit.data import load, spiral  # noqa: E402
from vaekit.eval.grid import mean_curve, nearest_distance  # noqa: E402
from vaekit.eval.likelihood import log_px  # noqa: E402
from vaekit.models import build_model  # noqa: E402
from vaekit.objectives.elbo import kl_standard_normal, reparameterize  # noqa: E402
from vaekit.train.config import TrainConfig  # noqa: E402
from vaekit.train.optim import make_optimizer  # noqa: E402
from vaekit.train.run import model_config  # noqa: E402


def floor_std(args, epoch_pos: float) -> float:
    """The floor's std at a point in training (epochs done, a float)."""
    if args.floor <= 0 or epoch_pos >= max(args.floor_epochs, args.floor_stop):
        return 0.0
    p = min(1.0, epoch_pos / args.floor_epochs)
    return args.floor * (args.floor_end / args.floor) ** p


def scaled(base, floor, mode):
    if floor == 0:
        return base.scale
    if mode == "add":      # var + f²
        return torch.sqrt(base.scale ** 2 + floor ** 2)
    if mode == "max":      # max(std, f)
        return base.scale.clamp(min=floor)
    if mode == "cap":      # 1/var' = 1/var + 1/f²: var' < f², the head always trained
        return torch.rsqrt(base.scale ** -2 + floor ** -2)
    return torch.full_like(base.scale, floor)   # "fixed"/"fixedhead": the decoder's variance replaced by f²


def iwae_loss(model, x, floor, gen, k, mode):
    """−log (1/k) Σ p(x|z_i) p(z_i)/q(z_i|x), p(x|z) with its variance fixed at f² (mode fixed)."""
    m, log_var = model.encode(x)                                               # (B, 1)
    e = torch.randn((k, *m.shape), generator=gen)
    z = m + torch.exp(0.5 * log_var) * e                                       # (k, B, 1)
    log_q = (-0.5 * (e * e + log_var + math.log(2 * math.pi))).sum(-1)
    log_pz = (-0.5 * (z * z + math.log(2 * math.pi))).sum(-1)
    base = model.decode(z.reshape(-1, 1), validate=False).base_dist
    mean = base.loc.reshape(k, len(x), -1)
    scale = scaled(base, floor, mode).reshape(k, len(x), -1)
    log_px = Normal(mean, scale).log_prob(x.reshape(1, len(x), -1)).sum(-1)     # (k, B)
    log_w = log_px + log_pz - log_q
    out = -(torch.logsumexp(log_w, 0) - math.log(k))
    if mode == "fixedhead":   # the head fitted meanwhile to the posterior's residuals (an M-step, means fixed)
        w = torch.softmax(log_w.detach(), 0)
        own = Normal(mean.detach(), base.scale.reshape(k, len(x), -1)).log_prob(x.reshape(1, len(x), -1)).sum(-1)
        out = out - (w * own).sum(0)
    return out


def loss_fn(model, x, beta, floor, gen, mode="add", k=1):
    if k > 1:
        return iwae_loss(model, x, floor, gen, k, mode)
    m, log_var = model.encode(x)
    z = reparameterize(m, log_var, gen)
    base = model.decode(z, validate=False).base_dist
    if floor == 0:
        scale = base.scale
    elif mode == "add":      # var + f²
        scale = torch.sqrt(base.scale ** 2 + floor ** 2)
    elif mode == "max":      # max(std, f)
        scale = base.scale.clamp(min=floor)
    elif mode == "cap":      # 1/var' = 1/var + 1/f²: var' < f², the head always trained
        scale = torch.rsqrt(base.scale ** -2 + floor ** -2)
    else:                    # "fixed": the decoder's variance replaced by f² (its own head untrained)
        scale = torch.full_like(base.scale, floor)
    recon = Independent(Normal(base.loc, scale, validate_args=False), 3).log_prob(x)
    if floor > 0 and mode == "fixedhead":   # the head trained meanwhile on the detached means
        recon = recon + Independent(Normal(base.loc.detach(), base.scale, validate_args=False), 3).log_prob(x)
    return -recon + beta * kl_standard_normal(m, log_var).sum(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="spiral", help="spiral or spiral-dD")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--cosine", action="store_true")
    ap.add_argument("--floor", type=float, default=0.0)
    ap.add_argument("--floor-end", type=float, default=0.03)
    ap.add_argument("--floor-epochs", type=int, default=20)
    ap.add_argument("--iwae", type=int, default=1, help="k: the IWAE bound while the floor is on (fixed variance)")
    ap.add_argument("--k-after", type=int, default=0, help="IWAE samples after the floor (default: --iwae)")
    ap.add_argument("--iwae-after", action="store_true", help="keep the IWAE bound after the floor")
    ap.add_argument("--floor-stop", type=int, default=0, help="keep F1 until this epoch, then 0")
    ap.add_argument("--mode", default="add", choices=("add", "max", "fixed", "fixedhead", "cap"))
    ap.add_argument("--curriculum", type=int, default=0)
    ap.add_argument("--hold", type=int, default=0, help="epochs at c0 before admitting more")
    ap.add_argument("--c0", type=float, default=0.0, help="the fraction admitted at first")
    ap.add_argument("--centre", default="mean", choices=("mean", "half"))
    ap.add_argument("--hidden", default="64,64")
    ap.add_argument("--tag", default="")
    ap.add_argument("--k-check", type=int, default=0, help="also score test with this many importance samples")
    ap.add_argument("--save", default="", help="save the model's state_dict here")
    ap.add_argument("--plot", default="", help="PNG of the decoded curve at a few epochs")
    ap.add_argument("--trace", action="store_true", help="print the curve distance and KL every epoch")
    args = ap.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()

    cfg = TrainConfig(data=args.data, hidden=args.hidden, latent=1, likelihood="gaussian", epochs=args.epochs,
                      warmup_epochs=args.warmup, log_px_every=0, seed=args.seed, device="cpu")
    train = load(args.data, "train").model_input("gaussian")
    model = build_model(model_config(cfg, train.shape[1:]), cfg.seed)
    opt = make_optimizer(model, args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    n, bs = len(train), 128
    flat = train.reshape(len(train), -1)
    centre = flat.mean(0) if args.centre == "mean" else torch.full((2,), 0.5)
    order = torch.argsort((flat - centre).norm(dim=1))   # by radius
    snaps = []
    for epoch in range(1, args.epochs + 1):
        if args.cosine:
            for g in opt.param_groups:
                g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / args.epochs))
        if args.curriculum:
            admitted = order[:max(bs, int(n * min(1.0, args.c0 + (1 - args.c0) * max(0, epoch - 1 - args.hold) / args.curriculum)))]
        else:
            admitted = torch.arange(n)
        perm = admitted[torch.randperm(len(admitted), generator=gen)]
        steps = math.ceil(len(perm) / bs)
        for step in range(steps):
            pos = (epoch - 1) + step / steps
            beta = min(1.0, pos / args.warmup) if args.warmup else 1.0
            x = train[perm[step * bs:(step + 1) * bs]]
            loss = loss_fn(model, x, beta, floor_std(args, pos), gen, args.mode,
                           args.iwae if floor_std(args, pos) > 0 else (args.k_after or (args.iwae if args.iwae_after else 1))).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if args.plot and train[0].numel() == 2 and (epoch % max(1, args.epochs // 8) == 0 or epoch == args.epochs):
            with torch.no_grad():
                snaps.append((epoch, floor_std(args, epoch), mean_curve(model, 200).reshape(-1, 2).numpy()))
        if args.trace:
            with torch.no_grad():
                on = spiral.curve(torch.linspace(0, 1, 2001, dtype=torch.float64))
                d = nearest_distance(on, mean_curve(model, 200).reshape(-1, 2)).mean().item()
                m, lv = model.encode(train[:2000])
                kl = kl_standard_normal(m, lv).sum(-1).mean().item()
                std = model.decode(m).base_dist.scale.mean().item()
            print(f"  epoch {epoch:3d} floor {floor_std(args, epoch):.3f} beta {beta:.2f} dist {d:.3f} "
                  f"kl {kl:.2f} std {std:.3f} loss {loss.item():.3f}", flush=True)
    seconds = time.perf_counter() - start
    if args.plot and train[0].numel() == 2:   # drawn for the 2-D spiral only
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, len(snaps), figsize=(2.2 * len(snaps), 2.4))
        pts = train.reshape(-1, 2)[:2000].numpy()
        for ax, (e, f, c) in zip(axes, snaps):
            ax.scatter(pts[:, 0], pts[:, 1], s=1, c="0.7")
            ax.plot(c[:, 0], c[:, 1], "r-", lw=1)
            ax.plot(c[:1, 0], c[:1, 1], "bo", ms=3)
            ax.set_title(f"ep {e} f {f:.3f}", fontsize=8)
            ax.set_xticks([]); ax.set_yticks([]); ax.set_aspect("equal")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=80)

    model.eval()
    with torch.no_grad():
        test = load(args.data, "test").model_input("gaussian")
        val = load(args.data, "val").model_input("gaussian")
        dim = test[0].numel()
        ceiling = (lambda p: spiral.log_density(p)) if dim == 2 else (lambda p: spiral.embedded_log_density(p, dim))
        score = lambda p, k=64: log_px(model, p, k=k, batch_size=max(1, 16384 // k),
                                       generator=torch.Generator().manual_seed(31), max_rows=16384).double()
        gap = (score(test) - ceiling(test).double()).mean().item()
        val_ll = score(val).mean().item()
        gap_big = (score(test, args.k_check) - ceiling(test).double()).mean().item() if args.k_check else None
        curve = mean_curve(model, 200).reshape(-1, dim)
        on = spiral.embed(spiral.curve(torch.linspace(0, 1, 2001, dtype=torch.float64)), dim)
        dist = nearest_distance(on, curve).mean().item()
        std = model.decode(torch.zeros(1, 1)).base_dist.scale.mean().item()
    if args.save:
        torch.save(model.state_dict(), args.save)
    print(json.dumps({"tag": args.tag, "seed": args.seed, "gap": round(gap, 4), **({"gap_k": round(gap_big, 4)} if gap_big is not None else {}), "val": round(val_ll, 4),
                      "dist": round(dist, 4), "std0": round(std, 4), "train_s": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
