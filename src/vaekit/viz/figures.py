"""The figures of a run, as {file name: PNG bytes}: what ``vaekit train`` and ``vaekit gmm`` write.

    samples.png          decoded prior samples z ~ N(0, I) (a mixture: draws x ~ P(x)); a conditional
                         model's, one row per class (up to 8 per row, 16 classes)
    reconstructions.png  (binarised) test images above their reconstructions
    interpolations.png   decodes along the line between two test images' codes (the lecture's
                         full moon / half moon)
    curves.png           train loss, val -ELBO and val -log p(x) per epoch
    means.png            a mixture's component means μ_m
"""

from __future__ import annotations

import math

import torch

from .curves import curves_png
from .grids import interpolations_png, reconstructions_png, samples_png


@torch.no_grad()
def vae_figures(model, test, history: list[dict], seed: int = 0, title: str = "") -> dict[str, bytes]:
    """Figures of a trained AE/VAE; ``test`` is a ``vaekit.data.Dataset`` (its first 32 images are shown).

    Continuous data (points, not images: ``spiral``, ``linear-gaussian``) gets only the curves.
    """
    model.eval()
    if test.continuous:
        return {"curves.png": curves_png(history, title=title)} if history else {}
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(seed)
    conditional = getattr(model, "conditional", False)
    if conditional:   # one row of 8 draws per class: p(x|y) for each y
        classes = min(model.config.classes, 16)
        y = torch.arange(classes, device=device).repeat_interleave(8)
        figures = {"samples.png": samples_png(model.sample(len(y), generator=g, y=y).cpu(), rows=classes)}
    else:
        figures = {"samples.png": samples_png(model.sample(64, generator=g).cpu())}
    first = test.images[:32]
    x = type(test)(test.name, test.split, first.contiguous()).model_input(model.likelihood).to(device)
    y = test.labels[:32].to(device) if conditional else None
    shown = x if model.likelihood == "bernoulli" else first.float().div(255)
    figures["reconstructions.png"] = reconstructions_png(shown.cpu(), model.reconstruct(x, y).cpu())
    n = 2 * min(4, len(x) // 2)
    pairs, ends = x[:n], (None if y is None else y[:n])
    if len(pairs):
        figures["interpolations.png"] = interpolations_png(model.interpolate(
            pairs[0::2], pairs[1::2], steps=10, **({} if ends is None else {"y_a": ends[0::2], "y_b": ends[1::2]})).cpu())
    if history:
        figures["curves.png"] = curves_png(history, title=title)
    return figures


@torch.no_grad()
def gmm_figures(model, seed: int = 0) -> dict[str, bytes]:
    """A mixture's component means and 64 draws x ~ P(x) (clamped to [0, 1] for display)."""
    g = torch.Generator(device=model.means.device).manual_seed(seed)
    rows = max(1, math.isqrt(model.config.components))
    return {"means.png": samples_png(model.means_as_images().cpu(), rows=rows),
            "samples.png": samples_png(model.sample(64, generator=g).clamp(0, 1).cpu())}
