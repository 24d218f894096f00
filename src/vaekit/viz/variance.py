"""Figures of the lecture's variance constraint (section 2 of ``vaekit lecture``), as PNG bytes.

    penalty_png     exp(σ) (blue), 1 + σ (red) and exp(σ) − (1 + σ) (green), minimum 0 at σ = 0
    sigma_hist_png  the learned σ of two models (with and without the KL term), one histogram
    samples_pair_png  two grids of images side by side, each with its title

Drawn on ``matplotlib.figure.Figure`` with the Agg canvas (never pyplot).
"""

from __future__ import annotations

import numpy as np
import torch

from ..i18n import _
from .figure import new_figure, to_png
from .grids import grid

def penalty_png(low: float = -3.0, high: float = 2.0) -> bytes:
    """The lecture's three curves over σ in [low, high] (low < 0 < high), the minimum marked."""
    if not low < 0 < high:
        raise ValueError(f"the σ range must contain 0; got [{low}, {high}]")
    s = np.linspace(low, high, 400)
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    ax.plot(s, np.exp(s), color="tab:blue", lw=2, label=_("exp(σ)  (the noise variance)"))
    ax.plot(s, 1 + s, color="tab:red", lw=2, label="1 + σ")
    ax.plot(s, np.exp(s) - (1 + s), color="tab:green", lw=2.5, label=_("exp(σ) − (1 + σ)  (the penalty)"))
    ax.plot([0], [0], "o", color="black", ms=7, zorder=5)
    ax.annotate(_("minimum 0 at σ = 0\n(variance exp(σ) = 1)"), xy=(0, 0), xytext=(0.35, -1.6),
                arrowprops={"arrowstyle": "->", "color": "black"}, fontsize=9)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.set_xlim(low, high)
    ax.set_ylim(-2.5, min(float(np.exp(high)), 8.0))
    ax.set_xlabel(_("σ  (log of the noise variance)"))
    ax.set_ylabel(_("value"))
    ax.set_title(_("The variance constraint: the KL term's σ part, per latent dimension"))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    return to_png(fig)


def sigma_hist_png(log_vars: dict[str, torch.Tensor], bins: int = 60) -> bytes:
    """Histograms of σ = log_var over every (example, dimension) of each model: {label: (N, L)}.

    Shared bins; counts as a fraction of each model's entries; the prior's σ = 0 marked.
    """
    if not log_vars:
        raise ValueError("log_vars must hold at least one model's σ")
    values = {label: v.detach().double().flatten().cpu().numpy() for label, v in log_vars.items()}
    everything = np.concatenate(list(values.values()))
    lo, hi = float(min(everything.min(), -0.5)), float(max(everything.max(), 0.5))
    edges = np.linspace(lo, hi, bins + 1)
    fig = new_figure(6.5, 3.8)
    ax = fig.add_subplot()
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for (label, v), colour in zip(values.items(), colours * 4):
        weights = np.full(len(v), 1.0 / len(v))
        ax.hist(v, bins=edges, weights=weights, alpha=0.55, color=colour, label=label,
                edgecolor=colour, linewidth=0.6)
    ax.axvline(0, color="black", ls="--", lw=1, label=_("prior: σ = 0 (variance 1)"))
    ax.set_xlabel(_("learned σ = log exp(σ)  (log of the noise variance)"))
    ax.set_ylabel(_("fraction of (test image, dimension) pairs"))
    ax.set_title(_("Learned σ over test images × latent dimensions"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return to_png(fig)


def samples_pair_png(left: torch.Tensor, right: torch.Tensor, titles: tuple[str, str], rows: int = 8) -> bytes:
    """Two image grids side by side: left, right (N, C, H, W) in [0, 1], C = 1, each ``rows`` rows."""
    fig = new_figure(8.0, 4.4)
    for i, (images, title) in enumerate(zip((left, right), titles)):
        canvas = np.asarray(grid(images.detach().cpu(), rows, pad=1, pad_value=128))   # imshow enlarges it
        ax = fig.add_subplot(1, 2, i + 1)
        ax.imshow(canvas / 255.0, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return to_png(fig)
