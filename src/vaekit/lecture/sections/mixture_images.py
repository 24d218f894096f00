"""Section 3's image part: the finite mixture and the infinite one on the image data.

Diagonal Gaussian mixtures of IMAGE_COMPONENTS sizes (runs ``image-gmm-<M>``) and the image VAE
with a Gaussian decoder (``image-gauss-vae``), each scored on the test split by ``vaekit eval``'s
own code (``rundir.evaluate``): exact for the mixtures, importance sampled for the VAE.  Densities
of the dequantised pixels, in nats per image and bits/dim.  ``method`` gives its paragraph, ``run_part``
adds the numbers and the table to section 3, ``conclusion`` its sentences.
"""

from __future__ import annotations

import math
import re

from ...i18n import _
from ..context import number, table
from ..plan import IMAGE_COMPONENTS

IMAGE_K = 500           # importance samples per image for the Gaussian VAE on the 8×8 digits
IMAGE_K_LARGE = 100     # ... on MNIST-sized data (10,000 test images of 784 pixels)


def method() -> str:
    """How part 3 compares the models on the image data (one paragraph)."""
    return _("Part 3 repeats the comparison on the image data with what `vaekit eval` reports on the test split: "
             "diagonal-covariance mixtures with M = {components} against a VAE with a "
             "Gaussian decoder, both densities of the same dequantised pixels y = (pixel + u)/256, in nats per image "
             "and in bits/dim (8-bit convention). The VAE's log P(x) uses k = {k} importance samples on the 8×8 "
             "digits (k = {k_large} on MNIST-sized data, to keep the time bounded), all test images.").format(
        components=", ".join(map(str, IMAGE_COMPONENTS)), k=IMAGE_K, k_large=IMAGE_K_LARGE)


def run_part(ctx, section) -> None:
    """Part 3: ``vaekit eval`` on the test split for each image mixture and the Gaussian VAE."""
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


def conclusion(numbers: dict) -> list[str]:
    """Sentences on the image data (none if it was not measured), from ``Section.numbers``."""
    v = {key: entry["value"] for key, entry in numbers.items()}
    if "image_vae_ll" not in v:
        return []
    out = []
    ims = sorted(int(g.group(1)) for g in (re.fullmatch(r"image_gmm(\d+)_ll", key) for key in v) if g)
    ivae, ibpd = v["image_vae_ll"], v["image_vae_bpd"]
    best_m = max(ims, key=lambda m: v[f"image_gmm{m}_ll"])
    gll, gbpd = v[f"image_gmm{best_m}_ll"], v[f"image_gmm{best_m}_bpd"]
    if ivae > gll:
        verdict = _("the VAE is better by {by:.2f} nats per image ({bpd:.3f} bits/dim), with a "
                    "code of {latent} dimensions in place of {m} components.").format(
            by=ivae - gll, bpd=gbpd - ibpd, latent=v["image_latent"], m=best_m)
    else:
        verdict = _("unexpectedly, the mixture is better by {by:.2f} nats per image "
                    "({bpd:.3f} bits/dim); this VAE, whose log P(x) is an importance-sampled lower-bound "
                    "estimate, does not beat a mixture of this size here.").format(by=gll - ivae, bpd=ibpd - gbpd)
    out.append(_("On the image data (D = {dims}), the Gaussian VAE scores {vae:.2f} nats per image "
                 "({vae_bpd:.3f} bits/dim, k = {k}) and the best diagonal mixture, M = {m}, {gmm:.2f} "
                 "({gmm_bpd:.3f} bits/dim): {verdict}").format(
        dims=v["image_dims"], vae=ivae, vae_bpd=ibpd, k=v["image_k"], m=best_m, gmm=gll, gmm_bpd=gbpd,
        verdict=verdict))
    if best_m != ims[-1]:
        out.append(_("More components do not help: M = {m} scores {ll:.2f} on the "
                     "test images, the mixture overfitting its training images.").format(
            m=ims[-1], ll=v[f"image_gmm{ims[-1]}_ll"]))
    return out
