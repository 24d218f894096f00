"""Pictures: image grids and loss curves, written atomically as PNG."""

from .curves import save_curves
from .grids import grid, save_interpolations, save_reconstructions, save_samples

__all__ = ["grid", "save_curves", "save_interpolations", "save_reconstructions", "save_samples"]
