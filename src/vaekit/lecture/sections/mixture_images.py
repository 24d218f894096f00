"""Section 3's image part: the finite mixture and the infinite one on the image data.

Diagonal Gaussian mixtures of IMAGE_COMPONENTS sizes (runs ``image-gmm-<M>``) and the image VAE
with a Gaussian decoder (``image-gauss-vae``), each scored on the test split by ``vaekit eval``'s
own code (``rundir.evaluate``): exact for the mixtures, importance sampled for the VAE.  Densities
of the dequantised pixels, in nats per image and bits/dim.  ``run_part`` adds the numbers and the
table to section 3.
"""

from __future__ import annotations

import math

from ...i18n import _
from ..context import number, table
from ..plan import IMAGE_COMPONENTS

IMAGE_K = 500           # importance samples per image for the Gaussian VAE on the 8×8 digits
IMAGE_K_LARGE = 100     # ... on MNIST-sized data (10,000 test images of 784 pixels)


def run_part(ctx, section) -> None:
    """Part 2: ``vaekit eval`` on the test split for each image mixture and the Gaussian VAE."""
    from ...rundir.evaluate import evaluate_run

    k = IMAGE_K_LARGE if ctx.plan.large_images else IMAGE_K
    rows = []
    report = None
    nats = _("nats per image")
    for m in IMAGE_COMPONENTS:
        name = f"image-gmm-{m}"
        report = ctx.remember("image-eval", [(name, 0)], lambda name=name: evaluate_run(
            ctx.train(name).path, split="test", device=str(ctx.device), seed=ctx.plan.seed))
        number(section, f"image_gmm{m}_ll", report["log_px"], nats,
               _("image GMM, M = {m}: test mean log P(x) (exact)").format(m=m))
        number(section, f"image_gmm{m}_bpd", report["bits_per_dim"], "bits/dim",
               _("image GMM, M = {m}: bits/dim").format(m=m))
        rows.append([_("GMM, M = {m} (diagonal)").format(m=m), report["log_px"], report["log_px_se"],
                     report["bits_per_dim"]])
    run = ctx.train("image-gauss-vae")
    vae = ctx.remember("image-eval", [("image-gauss-vae", 0)], lambda: evaluate_run(
        run.path, split="test", k=k, device=str(ctx.device), seed=ctx.plan.seed), k=k)
    dims = math.prod(run.model.config.image_shape)
    number(section, "image_latent", run.model.latent_dim, _("dimensions"), _("latent dimensions of the image VAE"))
    number(section, "image_k", k, _("samples"), _("importance samples per image for the image VAE's log P(x)"))
    number(section, "image_n", vae["n"], _("images"), _("test images scored"))
    number(section, "image_dims", dims, _("pixels"), _("dimensions D of an image"))
    number(section, "image_vae_ll", vae["log_px"], nats, _("Gaussian VAE: test mean log P(x), IS k = {k}").format(k=k))
    number(section, "image_vae_se", vae["log_px_se"], nats, _("Gaussian VAE: standard error of that mean"))
    number(section, "image_vae_bpd", vae["bits_per_dim"], "bits/dim", _("Gaussian VAE: bits/dim"))
    number(section, "image_vae_elbo", vae["elbo"], nats, _("Gaussian VAE: test mean ELBO L_b"))
    rows.append([_("VAE, Gaussian decoder (IS k = {k})").format(k=k), vae["log_px"], vae["log_px_se"],
                 vae["bits_per_dim"]])
    table(section, _("Test log-likelihood on the image data ({data}, {n:,} test images, D = {dims}), "
                     "from vaekit eval: densities of the dequantised pixels; "
                     "bits/dim = −(log P(x) − D ln 256)/(D ln 2)").format(data=ctx.plan.data, n=vae["n"], dims=dims),
          [_("model"), _("log P(x), nats per image"), _("± s.e."), "bits/dim"], rows)
