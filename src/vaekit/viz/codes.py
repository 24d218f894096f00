"""What a 2-D code decodes to: strips along a path between two codes, and the whole code plane.

The lecture's moon (section 1 of ``vaekit lecture``): an AE and a VAE with a 2-D code, the
decodes on the straight line from a full moon's code to a half moon's, and the decoded code
plane with the data's codes m on top.  Each function returns PNG bytes, drawn on a
``matplotlib.figure.Figure`` with the Agg canvas (pyplot and the process-wide backend are
never touched).  Images are shown as they are: grey, 0 black to 1 white, nearest-neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..i18n import _
from .figure import new_figure, to_png

GAP_COLOUR = "#d9dde3"   # the gaps between images in a mosaic (light blue-grey, not a pixel value)


@dataclass
class Strip:
    """One model's decodes along a path and the nearest true image of each.

    decodes, nearest: (S, C, H, W) in [0, 1]; distances: (S,) RMS pixel distance of each
    decode to its nearest true image; phases: (S,) that image's phase (None: not shown).
    """

    label: str
    decodes: torch.Tensor
    nearest: torch.Tensor
    distances: torch.Tensor
    phases: torch.Tensor | None = None


@dataclass
class Plane:
    """One model's decoded code plane.

    decodes: (G, G, C, H, W) in [0, 1], decodes[i, j] is the decode of the code
    (xs[j], ys[i]) with xs, ys = linspace(lo[k], hi[k], G), both ascending; codes: (N, 2), the
    codes m of the data, coloured by ``colour`` (N,) (e.g. the true phase); path: (2, 2), the two
    end codes of a path to draw on top (None: none).
    """

    label: str
    decodes: torch.Tensor
    lo: tuple[float, float]
    hi: tuple[float, float]
    codes: torch.Tensor
    colour: torch.Tensor
    path: torch.Tensor | None = None


def mosaic(images: torch.Tensor, gap: int = 1) -> np.ndarray:
    """images (R, K, C, H, W) in [0, 1] -> one array, R rows of K images, ``gap`` pixels apart.

    C = 1: (R·(H+gap)−gap, K·(W+gap)−gap) float with NaN in the gaps (``show`` paints them
    GAP_COLOUR); C = 3: the same with a last axis of 3 and white gaps.
    """
    x = images.detach().float().clamp(0, 1).cpu().numpy()
    r, k, c, h, w = x.shape
    fill = np.nan if c == 1 else 1.0
    out = np.full((r * (h + gap) - gap, k * (w + gap) - gap, c), fill, dtype=np.float32)
    for i in range(r):   # R·K slice copies of whole images (at most a few hundred), not pixels
        for j in range(k):
            out[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = x[i, j].transpose(1, 2, 0)
    return out[..., 0] if c == 1 else out


def show(ax, array: np.ndarray, extent=None) -> None:
    """imshow an image array in [0, 1]: grey, vmin 0, vmax 1, nearest-neighbour, gaps in GAP_COLOUR."""
    import matplotlib

    cmap = matplotlib.colormaps["gray"].with_extremes(bad=GAP_COLOUR)
    ax.imshow(array, cmap=cmap, vmin=0, vmax=1, interpolation="nearest", extent=extent,
              aspect="equal" if extent is None else "auto")


def path_strips_png(strips: list[Strip], title: str) -> bytes:
    """Per model, two rows: its decodes along the path, and below each the nearest true image,
    labelled with the distance d (RMS, pixels in [0, 1]) and that image's phase φ."""
    steps, (h, w) = len(strips[0].decodes), strips[0].decodes.shape[-2:]
    width = min(9.0, 0.75 * steps + 1.2)
    strip = 1.05 + 0.8 * width * (2 * h + 1) / (steps * (w + 1))   # inches: title and labels, then the images
    fig = new_figure(width, strip * len(strips) + 0.4)
    axes = fig.subplots(len(strips), 1, squeeze=False)[:, 0]
    for ax, s in zip(axes, strips):
        show(ax, mosaic(torch.stack([s.decodes, s.nearest])))
        ax.set_yticks([h / 2, 1.5 * h + 1], [_("decode"), _("nearest\ntrue moon")])
        labels = [f"d {d:.3f}" for d in s.distances.tolist()]
        if s.phases is not None:
            labels = [f"{label}\nφ {p:.2f}" for label, p in zip(labels, s.phases.tolist())]
        # the figure is at most 9 inches wide: past 12 steps the labels shrink so they do not overlap
        ax.set_xticks([j * (w + 1) + w / 2 for j in range(steps)], labels, fontsize=8 if steps <= 12 else 5.5)
        ax.tick_params(length=0)
        ax.set_title(_("{model}: mean distance to the nearest true moon {distance:.3f}").format(
            model=s.label, distance=s.distances.mean()), fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return to_png(fig)


def path_curves_png(t: torch.Tensor, strips: list[Strip], floor: float | None = None) -> bytes:
    """Left: each strip's distance to the nearest true moon along the path; right: that moon's phase.

    t: (S,) position on the path (0 at the first end code, 1 at the second).  ``floor``: the
    distance a real (jittered) moon has to the references, drawn as a dashed line.
    """
    fig = new_figure(8.5, 3.4)
    left, right = fig.subplots(1, 2)
    for s, style in zip(strips, ("o-", "s-", "^-", "d-")):
        left.plot(t.tolist(), s.distances.tolist(), style, label=s.label, markersize=4)
        if s.phases is not None:
            right.plot(t.tolist(), s.phases.tolist(), style, label=s.label, markersize=4)
    if floor is not None:
        left.axhline(floor, color="grey", linestyle="--", linewidth=1, label=_("median real moon"))
    left.set_xlabel(_("position on the path t (0 full moon's code, 1 half moon's)"))
    left.set_ylabel(_("RMS distance to nearest true moon\n(pixels in [0, 1])"))
    left.set_ylim(bottom=0)
    left.set_title(_("Is each decode a moon?"), fontsize=10)
    right.set_xlabel(_("position on the path t"))
    right.set_ylabel(_("phase of the nearest true moon\n(0 full, 0.5 half)"))
    right.set_title(_("Which moon is it?"), fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return to_png(fig)


def code_plane_png(planes: list[Plane], colour_label: str = "phase") -> bytes:
    """Per model, its code plane decoded on the grid, the data's codes m as a scatter on top
    (coloured by ``colour``; one shared colour bar) and the path's end codes joined by a line."""
    fig = new_figure(4.3 * len(planes) + 0.9, 4.6, layout="constrained")
    axes = fig.subplots(1, len(planes), squeeze=False)[0]
    vmin = min(p.colour.min().item() for p in planes)
    vmax = max(p.colour.max().item() for p in planes)
    dots = None
    for ax, p in zip(axes, planes):
        g = p.decodes.shape[0]
        step = [(p.hi[k] - p.lo[k]) / max(g - 1, 1) for k in (0, 1)]
        extent = (p.lo[0] - step[0] / 2, p.hi[0] + step[0] / 2, p.lo[1] - step[1] / 2, p.hi[1] + step[1] / 2)
        show(ax, mosaic(p.decodes.flip(0), gap=0), extent=extent)   # row 0 on top: the largest z₂
        codes = p.codes.cpu()
        dots = ax.scatter(codes[:, 0].tolist(), codes[:, 1].tolist(), c=p.colour.tolist(), s=6, alpha=0.75,
                          cmap="viridis", vmin=vmin, vmax=vmax, linewidths=0, label=_("data codes m"))
        if p.path is not None:
            ends = p.path.cpu()
            ax.plot(ends[:, 0].tolist(), ends[:, 1].tolist(), "-", color="#ff5a36", linewidth=1.5,
                    label=_("path full → half"))
            ax.plot(ends[0, 0].item(), ends[0, 1].item(), "o", color="#ff5a36", markersize=6)
            ax.plot(ends[1, 0].item(), ends[1, 1].item(), "s", color="#ff5a36", markersize=6)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel(_("code dimension 1 (z₁)"))
        ax.set_ylabel(_("code dimension 2 (z₂)"))
        ax.set_title(_("{model}: decoded {g}×{g} grid").format(model=p.label, g=g), fontsize=10)
        ax.legend(fontsize=7, loc="lower right", markerscale=3, framealpha=0.8)
    bar = fig.colorbar(dots, ax=list(axes), fraction=0.03, pad=0.02)
    bar.set_label(colour_label)
    bar.solids.set_alpha(1)
    return to_png(fig)
