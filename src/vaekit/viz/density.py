"""2-D densities as heat maps, and held-out log-likelihood against mixture size, as PNG bytes.

Drawn on a ``matplotlib.figure.Figure`` with the Agg canvas (never pyplot): the process-wide
backend is not touched.  Used by the lecture's mixture section (``lecture.sections.mixture``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..i18n import _
from .figure import new_figure, to_png

CMAP = "magma"   # perceptually uniform, dark (0) to bright (high density)


@dataclass(frozen=True)
class Line:
    """A horizontal reference line: a model's (or the ceiling's) mean with its standard error."""

    label: str
    mean: float
    se: float
    color: str
    style: str = "--"


def _array(a) -> np.ndarray:
    return a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)


def density_maps_png(panels: list[tuple[str, object]], extent: tuple[float, float, float, float], vmax: float,
                     colorbar_label: str, title: str = "", curve=None, cols: int = 2) -> bytes:
    """Heat maps on one colour scale, 0 to ``vmax``, with one shared colour bar.

    panels: (title, values (n, n)) each, row i = y and column j = x (``eval.grid.Grid``), or
    (title, values, (label, points (K, 2))) to draw a line through those points on that panel,
    with a legend (a model's curve); values above ``vmax`` show in the top colour (say so in the
    caption).  extent: (x0, x1, y0, y1).  curve: optional points (M, 2) drawn as a thin dotted
    line on every panel (a reference, such as the curve the data lie along).
    """
    rows = math.ceil(len(panels) / cols)
    # Fixed margins (inches) rather than a layout engine: the layout passes cost more than the drawing.
    side, wgap, hgap, left, right, bottom, top = 3.0, 0.3, 0.45, 0.6, 1.25, 0.5, 0.3 + (0.35 if title else 0.0)
    width, height = left + cols * side + (cols - 1) * wgap + right, bottom + rows * side + (rows - 1) * hgap + top
    fig = new_figure(width, height)
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw=dict(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
        wspace=wgap / side, hspace=hgap / side))
    image = None
    for i, (ax, (name, values, *overlay)) in enumerate(zip(axes.flat, panels)):
        image = ax.imshow(_array(values), origin="lower", extent=extent, cmap=CMAP, vmin=0.0, vmax=vmax,
                          interpolation="nearest", aspect="equal")
        if curve is not None:
            c = _array(curve)
            ax.plot(c[:, 0], c[:, 1], color="white", lw=0.6, ls=":", alpha=0.6)
        if overlay:
            label, points = overlay[0]
            p = _array(points).reshape(-1, 2)
            ax.plot(p[:, 0], p[:, 1], color="tab:cyan", lw=1.2, label=label)
            ax.legend(loc="upper left", fontsize=7, framealpha=0.6)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_title(name, fontsize=10)
        # Tick labels on the outer panels only: the panels share their axes, and text is what costs time.
        if i // cols == rows - 1 or i + cols >= len(panels):
            ax.set_xlabel("x₁")
        else:
            ax.tick_params(labelbottom=False)
        if i % cols == 0:
            ax.set_ylabel("x₂")
        else:
            ax.tick_params(labelleft=False)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if image is not None:
        cax = fig.add_axes([1 - (right - 0.2) / width, bottom / height, 0.18 / width,
                            (rows * side + (rows - 1) * hgap) / height])
        bar = fig.colorbar(image, cax=cax, extend="max")
        bar.set_label(colorbar_label)
    if title:
        fig.suptitle(title, fontsize=11, y=1 - 0.12 / height, va="top")
    return to_png(fig)


def loglik_vs_components_png(components: list[int], means: list[float], ses: list[float], lines: list[Line],
                             title: str = "", ylabel: str | None = None) -> bytes:
    """Mixture log-likelihood (mean ± 2 s.e.) against the number of components M (log axis), with
    horizontal reference lines (each with a ±2 s.e. band): another model, the ceiling.  ``ylabel``: by default
    "held-out log-likelihood (nats per example)"."""
    fig = new_figure(6, 3.8, layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(components, means, yerr=[2 * s for s in ses], fmt="o-", color="tab:blue", capsize=3,
                label=_("Gaussian mixture, M components"))
    for line in lines:
        ax.axhline(line.mean, color=line.color, ls=line.style, lw=1.5, label=line.label)
        ax.axhspan(line.mean - 2 * line.se, line.mean + 2 * line.se, color=line.color, alpha=0.12, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_xticks(components)
    ax.set_xticklabels([str(m) for m in components])
    ax.minorticks_off()
    ax.set_xlabel(_("number of mixture components M"))
    ax.set_ylabel(ylabel if ylabel is not None else _("held-out log-likelihood (nats per example)"))
    if title:
        ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    return to_png(fig)
