"""The lecture's dimension sweep as one figure: how far below the true density each model scores,
against its number of parameters, one panel per data dimension D.  PNG bytes (Agg canvas)."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import _
from .figure import new_figure, to_png

FLOOR = 1e-3    # distances below the ceiling are drawn on a log axis from here (0.001 nats)


@dataclass(frozen=True)
class SweepPanel:
    """One dimension D: the mixtures' (parameters, nats below the ceiling) by covariance, in order of
    M (``mixtures``: {"full": [(params, below, M), ...], "diag": [...]}), and the VAE's, one per seed."""

    dim: int
    mixtures: dict[str, list[tuple[int, float, int]]]
    vae: list[tuple[int, float]]


def sweep_png(panels: list[SweepPanel], title: str = "") -> bytes:
    """Nats per point below the true density (log scale, clipped at FLOOR) against parameters (log scale)."""
    fig = new_figure(3.1 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    styles = {"full": ("tab:blue", "o", _("GMM, full covariance")), "diag": ("tab:green", "s", _("GMM, diagonal"))}
    for ax, panel in zip(axes, panels):
        for cov, points in panel.mixtures.items():
            color, marker, label = styles[cov]
            xs = [p for p, _, _ in points]
            ys = [max(b, FLOOR) for _, b, _ in points]
            ax.plot(xs, ys, marker=marker, color=color, label=label, lw=1.2, ms=4)
            for p, b, m in points:
                ax.annotate(f"{m}", (p, max(b, FLOOR)), textcoords="offset points", xytext=(3, 3), fontsize=6,
                            color=color)
        ax.plot([p for p, _ in panel.vae], [max(b, FLOOR) for _, b in panel.vae], "*", color="tab:orange", ms=9,
                label=_("VAE, 1-D latent (each seed)"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()
        ax.set_title(f"D = {panel.dim}", fontsize=10)
        ax.set_xlabel(_("parameters"))
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel(_("nats per point below the true density"))
    axes[0].legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.15, top=0.84, wspace=0.08)
    return to_png(fig)
