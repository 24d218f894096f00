"""One matplotlib Figure on its own Agg canvas, and its PNG bytes: what every viz module draws on.

A ``matplotlib.figure.Figure`` with ``FigureCanvasAgg`` never touches pyplot or the
process-wide backend (a notebook's, say), so drawing here has no side effect.
"""

from __future__ import annotations

import io

DPI = 110   # pixels per inch of the lecture's figures: readable at 450-900 CSS px


def new_figure(width: float, height: float, layout: str | None = None, dpi: int = DPI):
    """A Figure of width × height inches on its own Agg canvas; ``layout``: matplotlib's ("constrained", ...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig) -> bytes:
    """The figure as PNG bytes, at its own dpi."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 3})   # zlib's default 6 takes ~3x longer
    return buf.getvalue()
