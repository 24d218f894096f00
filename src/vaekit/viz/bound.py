"""Figures of the lecture's lower bound (section 4 of ``vaekit lecture``), as PNG bytes.

    training_bound_png  log p(x) (IS), L_b and their gap per epoch: two panels sharing the epoch axis
    linear_bound_png    the linear VAE: L_b, the IS estimate and the exact log p(x) per epoch, the
                        true model's log p(x) as a horizontal line; the gaps below
    bounds_vs_k_png     L_k and the gap log p(x) − L_k against k (log axes) for several models

Drawn on ``matplotlib.figure.Figure`` with the Agg canvas (never pyplot).  Values in nats per example.
"""

from __future__ import annotations

import numpy as np

from ..i18n import _
from .figure import new_figure, to_png

def _integer_epochs(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _zoom(ax, values, keep: float = 0.85) -> None:
    """y limits that show the last ``keep`` share of the range of the values (the first epochs'
    values are far below the rest and would squash the curves)."""
    v = np.sort(np.asarray([x for x in values if np.isfinite(x)], dtype=float))
    if len(v) < 3:
        return
    lo, hi = v[int((1 - keep) * (len(v) - 1))], v[-1]
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    ax.set_ylim(lo - pad, hi + pad)


def _bound_and_gap():
    """A figure with two panels over one epoch axis: the bounds (top, 2/3) and their gaps (bottom)."""
    fig = new_figure(6.5, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    return fig, top, bottom


def _gap_axis(ax) -> None:
    """The bottom panel's labels: epochs (integers) across, gaps in nats up, a grid and the legend."""
    ax.set_xlabel(_("epoch"))
    _integer_epochs(ax)
    ax.set_ylabel(_("gap, nats"))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)


def training_bound_png(epochs, log_px, elbo, title: str = "") -> bytes:
    """Per epoch (sequences of equal length): log p(x) (IS) and L_b above, log p(x) − L_b below."""
    epochs, log_px, elbo = (np.asarray(a, dtype=float) for a in (epochs, log_px, elbo))
    fig, top, bottom = _bound_and_gap()
    top.plot(epochs, log_px, color="tab:blue", lw=1.8, label=_("log p(x)  (importance sampled)"))
    top.plot(epochs, elbo, color="tab:orange", lw=1.8, label="L_b  (ELBO)")
    top.fill_between(epochs, elbo, log_px, color="tab:green", alpha=0.15, lw=0)
    _zoom(top, np.concatenate([log_px, elbo]))
    top.set_ylabel(_("nats per image"))
    top.set_title(title or _("Validation log p(x) and its lower bound L_b during training"))
    top.grid(alpha=0.3)
    top.legend(loc="lower right", fontsize=9)
    bottom.plot(epochs, log_px - elbo, color="tab:green", lw=1.8,
                label=_("gap log p(x) − L_b ≈ KL(q(z|x) ‖ P(z|x))"))
    bottom.axhline(0, color="grey", lw=0.8)
    _gap_axis(bottom)
    fig.tight_layout()
    return to_png(fig)


def linear_bound_png(epochs, elbo, log_px_is, log_px_exact, true_log_px: float, k: int) -> bytes:
    """The linear VAE per epoch: L_b, the IS estimate (k samples) and the exact log p(x), with the
    true data model's log p(x) (the ceiling) as a horizontal line; below, exact − L_b and exact − IS."""
    epochs, elbo, log_px_is, log_px_exact = (np.asarray(a, dtype=float)
                                             for a in (epochs, elbo, log_px_is, log_px_exact))
    fig, top, bottom = _bound_and_gap()
    top.axhline(true_log_px, color="black", ls="--", lw=1.2, label=_("true model's log p(x)  (the ceiling)"))
    top.plot(epochs, log_px_exact, color="tab:blue", lw=2.2, label=_("exact log p(x) of the learned model"))
    top.plot(epochs, log_px_is, color="tab:purple", lw=1.2, ls="-.", label=_("IS estimate, k = {k}").format(k=k))
    top.plot(epochs, elbo, color="tab:orange", lw=1.4, label="L_b  (ELBO)")
    _zoom(top, np.concatenate([elbo, log_px_is, log_px_exact, [true_log_px]]), keep=0.8)
    top.set_ylabel(_("nats per point"))
    top.set_title(_("Linear VAE on linear-Gaussian data: L_b, IS and exact log p(x)"))
    top.grid(alpha=0.3)
    top.legend(loc="lower right", fontsize=8.5)
    bottom.plot(epochs, log_px_exact - elbo, color="tab:green", lw=1.8, label=_("exact − L_b"))
    bottom.plot(epochs, log_px_exact - log_px_is, color="tab:purple", lw=1.2, ls="-.", label=_("exact − IS"))
    bottom.axhline(0, color="grey", lw=0.8)
    gaps = np.concatenate([log_px_exact - elbo, log_px_exact - log_px_is])
    _zoom(bottom, gaps, keep=0.85)
    lo, hi = bottom.get_ylim()
    bottom.set_ylim(min(lo, -0.05), max(hi, 0.05))
    _gap_axis(bottom)
    fig.tight_layout()
    return to_png(fig)


def bounds_vs_k_png(ks, curves: dict[str, dict], title: str = "") -> bytes:
    """L_k against k (log axis), left, and the gap log p(x) − L_k, right, for several models.

    ``curves`` = {model label: {"bounds": L_k per k, "gaps": log p(x) − L_k per k (the last k is log
    p(x) itself: its gap, 0, is not drawn), "gap_se": their standard errors, and optionally
    "fitted": (L_b, gap) under a q fitted with the decoder fixed, drawn as a star at k = 1}}.
    """
    ks = np.asarray(ks, dtype=float)
    fig = new_figure(9.0, 3.9)
    left, right = fig.subplots(1, 2)
    colours = ["tab:orange", "tab:blue", "tab:green", "tab:purple"]
    for (label, c), colour in zip(curves.items(), colours * 4):
        left.plot(ks, c["bounds"], color=colour, marker="o", ms=4, lw=1.6, label=label)
        right.errorbar(ks[:-1], np.asarray(c["gaps"])[:-1], yerr=np.asarray(c["gap_se"])[:-1], color=colour,
                       marker="o", ms=4, lw=1.6, capsize=3, label=label)
        if c.get("fitted") is not None:
            fitted_bound, fitted_gap = c["fitted"]
            left.plot([1], [fitted_bound], marker="*", ms=13, color=colour, mec="black", ls="none")
            right.plot([1], [fitted_gap], marker="*", ms=13, color=colour, mec="black", ls="none")
    if any(c.get("fitted") is not None for c in curves.values()):
        left.plot([], [], marker="*", ms=11, color="lightgrey", mec="black", ls="none",
                  label=_("L_b with q fitted per image (decoder fixed)"))
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel(_("k, importance samples"))
        ax.grid(alpha=0.3, which="both")
    left.set_ylabel(_("L_k, nats per image"))
    left.set_title(_("L_k (L_1 = L_b; the last k: log p(x))"), fontsize=10)
    left.legend(loc="lower right", fontsize=8)
    right.set_yscale("log")
    right.set_ylabel(_("log p(x) − L_k, nats per image\n(log p(x) ≈ L_{k})").format(k=int(ks[-1])))
    right.set_title(_("The gap, ± one standard error (paired)"), fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return to_png(fig)
