"""Loss curves from a run's history (metrics.jsonl), as PNG bytes.

Drawn on a ``matplotlib.figure.Figure`` with the Agg canvas: the process-wide pyplot
backend (a notebook's, say) is never touched.
"""

from __future__ import annotations

from .figure import new_figure, to_png


def curves_png(records: list[dict], title: str = "") -> bytes:
    """Train loss and val negative ELBO per epoch (and val -log p(x) where it was estimated), nats."""
    def series(key, sign=1.0):   # (epochs, values) of the records that hold a number for key
        points = [(r["epoch"], sign * r[key]) for r in records if isinstance(r.get(key), (int, float))]
        return tuple(zip(*points)) or ((), ())

    fig = new_figure(6, 4, dpi=100)
    ax = fig.add_subplot()
    train, val, lp = series("train_loss"), series("val_loss"), series("val_log_px", -1.0)
    ax.plot(*train, label="train loss")
    ax.plot(*val, label="val −ELBO")
    if lp[0]:
        ax.plot(*lp, "o--", label="val −log p(x) (IS estimate)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per example")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    lows = [*train[1], *val[1], *lp[1]]
    if len(lows) > 2:
        hi = sorted(lows)[int(0.9 * (len(lows) - 1))]   # ignore the first epochs' spike
        ax.set_ylim(min(lows) - 0.05 * (hi - min(lows) + 1), hi + 0.1 * (hi - min(lows) + 1))
    fig.tight_layout()
    return to_png(fig)
