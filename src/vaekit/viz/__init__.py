"""Pictures: image grids, loss curves and a run's figures, as PNG bytes (never written as a side effect)."""

from .curves import curves_png
from .figures import gmm_figures, vae_figures
from .grids import grid, interpolations_png, reconstructions_png, samples_png

__all__ = ["curves_png", "gmm_figures", "grid", "interpolations_png", "reconstructions_png", "samples_png",
           "vae_figures"]
