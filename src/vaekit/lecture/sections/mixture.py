"""Section 3: estimating P(x), the finite Gaussian mixture against the infinite one (a VAE).

Part 1 is 2-D data whose density is known (``mixture_spiral``; its sentences:
``mixture_spiral_conclusion``): the true density, Gaussian mixtures of several sizes and a VAE
with a 1-D latent are drawn as heat maps on one grid and scored on the same held-out points, with
the true density's own score as the ceiling; then the same manifold in D dimensions
(``mixture_sweep``).  Part 3 is the same comparison on the image
data, with ``vaekit eval``'s numbers (``mixture_images``).  This module puts the parts together.
"""

from __future__ import annotations

import sys

from ...i18n import N_, _, sentences
from . import mixture_images as images
from . import mixture_spiral as spiral_part
from . import mixture_spiral_conclusion as spiral_words
from . import mixture_sweep as sweep

NUMBER = 3
ID = "mixture"
TITLE = N_("Estimating P(x): the finite mixture and the infinite one")

CLAIM = N_(
    "The lecture estimates P(x) with a Gaussian mixture: P(x) = Σ_m P(m) P(x|m), M Gaussians, each with its "
    "own mean μ and covariance Σ, weighted by P(m). A VAE is the same model with infinitely many components: "
    "the code z is drawn from a normal distribution N(0, I) instead of picking one of M, and a network maps "
    "each z to the mean and variance of its Gaussian, P(x) = ∫ P(z) P(x|z) dz. So a VAE with a small code "
    "should fit data that a finite mixture needs many components for; and no model can score better, on "
    "average over held-out data, than the data's true density."
)


def method() -> str:
    """How the experiment tests the claim (paragraphs, one module per part)."""
    return "\n\n".join([*spiral_part.method(), sweep.method(), images.method()])


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    spiral_part.run_part(ctx, section)
    sweep.run_part(ctx, section)
    images.run_part(ctx, section)
    ctx.explore(section, _("the image VAE with a Gaussian decoder"), "image-gauss-vae")
    section.conclusion = conclusion(section.numbers)
    return section


def conclusion(numbers: dict) -> str:
    """The closing sentences, from the measured numbers (``Section.numbers``: {key: {value, unit, label}})."""
    return sentences([*spiral_words.conclusion(numbers), *sweep.conclusion(numbers), *images.conclusion(numbers)])
