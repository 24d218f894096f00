"""Loss curves from a run's metrics.jsonl."""

from __future__ import annotations

import io
from pathlib import Path

from .. import atomic


def save_curves(records: list[dict], path: str | Path, title: str = "") -> None:
    """Train loss and val negative ELBO per epoch (and val -log p(x) where it was estimated)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in records]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(epochs, [r["train_loss"] for r in records], label="train loss")
    ax.plot(epochs, [r["val_loss"] for r in records], label="val −ELBO")
    lp = [(r["epoch"], -r["val_log_px"]) for r in records if r.get("val_log_px") is not None]
    if lp:
        ax.plot(*zip(*lp), "o--", label="val −log p(x) (IS estimate)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per example")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    if len(records) > 1:
        lows = [r["val_loss"] for r in records] + [r["train_loss"] for r in records] + [v for _, v in lp]
        hi = sorted(lows)[int(0.9 * (len(lows) - 1))]   # ignore the first epochs' spike
        ax.set_ylim(min(lows) - 0.05 * (hi - min(lows) + 1), hi + 0.1 * (hi - min(lows) + 1))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic.write_bytes(path, buf.getvalue())
