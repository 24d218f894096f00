"""The VAE's two problems in pictures: samples beside their nearest training image (copying?),
the distribution of nearest-training distances, and the mean image E[x|z] beside draws from
p(x|z) (where the blur comes from).  Section 5 of ``vaekit lecture``.

PNG bytes from a ``matplotlib.figure.Figure`` on the Agg canvas (``viz.codes`` helpers);
images grey, 0 black to 1 white, nearest-neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .codes import show
from ..i18n import N_, _
from .figure import new_figure, to_png

LIKELIHOODS = {"bernoulli": N_("Bernoulli"), "gaussian": N_("Gaussian")}   # the decoders, as the figures name them


@dataclass
class Pairs:
    """Images each beside their nearest training image: images, nearest (N, C, H, W) in [0, 1];
    distances (N,) RMS pixel distance between them (pixels in [0, 1])."""

    label: str
    images: torch.Tensor
    nearest: torch.Tensor
    distances: torch.Tensor


def _place(canvas: np.ndarray, image: torch.Tensor, top: int, left: int) -> None:
    c, h, w = image.shape
    canvas[top:top + h, left:left + w] = image.detach().float().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)


def pairs_png(groups: list[Pairs], per_row: int = 4) -> bytes:
    """One panel per group: rows of ``per_row`` pairs (image | its nearest training image),
    each pair labelled with its distance d."""
    c, h, w = groups[0].images.shape[1:]
    rows = -(-len(groups[0].images) // per_row)
    gap, between, below = max(1, w // 14), max(3, w // 3), max(4, (2 * h) // 5)   # pixels
    pair_w = 2 * w + gap
    width, height = per_row * pair_w + (per_row - 1) * between, rows * (h + below)
    fig = new_figure(4.4 * len(groups), 0.35 + 4.4 * height / width)
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, g in zip(axes, groups):
        canvas = np.full((height, width, c), np.nan if c == 1 else 1.0, dtype=np.float32)
        for i in range(len(g.images)):
            r, k = divmod(i, per_row)
            top, left = r * (h + below), k * (pair_w + between)
            _place(canvas, g.images[i], top, left)
            _place(canvas, g.nearest[i], top, left + w + gap)
            ax.text(left + pair_w / 2, top + h + below * 0.45, f"d {g.distances[i]:.3f}", ha="center",
                    va="center", fontsize=7)
        show(ax, canvas[..., 0] if c == 1 else canvas)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(g.label, fontsize=9)
    fig.tight_layout()
    return to_png(fig)


def distance_hist_png(distances: dict[str, torch.Tensor], train_size: int) -> bytes:
    """Histograms (shared bins, as fractions) of the distance to the nearest training image, one
    per group, with each group's median as a dashed line."""
    fig = new_figure(7.0, 3.8)
    ax = fig.subplots()
    values = {k: v.detach().float().cpu().numpy() for k, v in distances.items()}
    every = np.concatenate(list(values.values()))
    bins = np.linspace(0, float(every.max()) * 1.02, 41)
    colours = ("#d1495b", "#00798c", "#edae49", "#66a182")
    for (label, v), colour in zip(values.items(), colours):
        median = float(np.median(v))
        ax.hist(v, bins=bins, weights=np.full(len(v), 1 / len(v)), histtype="step", linewidth=1.8,
                color=colour, label=_("{label} (median {median:.3f})").format(label=label, median=median))
        ax.axvline(median, color=colour, linestyle="--", linewidth=1)
    ax.set_xlabel(_("RMS distance to the nearest training image (pixels in [0, 1])"))
    ax.set_ylabel(_("fraction of images"))
    ax.set_title(_("Distance to the nearest of the {n:,} training images").format(n=train_size), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return to_png(fig)


def mean_vs_draws_png(means: torch.Tensor, draws: torch.Tensor, likelihood: str) -> bytes:
    """Per code z (a row): the mean image E[x|z], then draws x ~ p(x|z).

    means: (K, C, H, W), draws: (K, S, C, H, W), in [0, 1] (Gaussian draws clamped for display).
    """
    k, s = draws.shape[:2]
    c, h, w = means.shape[1:]
    gap, sep = max(1, w // 14), max(3, w // 3)
    width = w + sep + s * w + (s - 1) * gap
    canvas = np.full((k * h + (k - 1) * gap, width, c), np.nan if c == 1 else 1.0, dtype=np.float32)
    for i in range(k):
        top = i * (h + gap)
        _place(canvas, means[i], top, 0)
        for j in range(s):
            _place(canvas, draws[i, j], top, w + sep + j * (w + gap))
    fig = new_figure(min(8.5, 1.0 + 0.85 * (s + 1)), 0.9 + 0.8 * k)
    ax = fig.subplots()
    show(ax, canvas[..., 0] if c == 1 else canvas)
    ax.set_xticks([w / 2] + [w + sep + j * (w + gap) + w / 2 for j in range(s)],
                  [_("mean\nE[x|z]")] + [_("draw {j}").format(j=j + 1) for j in range(s)], fontsize=8)
    ax.set_yticks([i * (h + gap) + h / 2 for i in range(k)], [f"z{i + 1}" for i in range(k)], fontsize=8)
    ax.tick_params(length=0)
    decoder = _(LIKELIHOODS[likelihood]) if likelihood in LIKELIHOODS else likelihood
    ax.set_title(_("The mean image vs draws from p(x|z) ({likelihood} decoder), codes z ~ N(0, I)").format(
        likelihood=decoder), fontsize=10)
    fig.tight_layout()
    return to_png(fig)
