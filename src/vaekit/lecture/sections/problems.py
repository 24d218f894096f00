"""Section 5, problems of VAE: blurry samples, and are they copies of the training images?

Run: ``image-vae`` (plan.py), the VAE on the image data (digits by default; ``--data mnist``).
Sharpness: ``eval.sharpness``; nearest training images: ``eval.nearest``.
"""

from __future__ import annotations

import sys

import torch
from torch.distributions import Bernoulli

from ...data import load
from ...eval.combination import blend_residuals
from ...eval.nearest import nearest_images
from ...eval.sharpness import gradient_magnitude, laplacian_variance
from ...i18n import N_, _, sentences
from ...viz.problems import Pairs, distance_hist_png, mean_vs_draws_png, pairs_png
from ..context import number, seeded_number, table

NUMBER = 5
ID = "problems"
TITLE = N_("Problems of VAE: blurry, and copying")
CLAIM = N_(
    "A VAE is trained to make its output as close as possible to the images of the database; it is "
    "never asked to make a new image. So its samples may be no more than the training images again, or "
    "blends (linear combinations) of them. And what it shows for a code z is the mean E[x|z] of a "
    "decoder whose pixels are independent given z: where several images share the noise around a code "
    "m, that mean averages them, and comes out blurry."
)
TEST_IMAGES = 1000     # the first test images (all of them when the split is smaller)
MIN_SAMPLES = 64       # at least this many prior samples, however small the test split
SHOWN = 16             # samples (and test images) shown beside their nearest training image
CODES, DRAWS = 4, 5    # the mean-vs-draws figure: codes z, and draws x ~ p(x|z) per code
NEAR = 0.05            # "near-copy": closer to a training image than the closest 5 % of test images are
BLEND_K = 10           # "linear combinations of the database": blends of this many nearest training images


def method() -> str:
    """How the experiment tests the claim (paragraphs)."""
    return "\n\n".join([
        _("We take the VAE trained on the image data (the same run as the variance section's 'with KL') and "
          "compare three kinds of images, all with pixels in [0, 1]: held-out test images (the first "
          "{n_test:,}, or the whole test split when it is smaller; stored pixel / 255), their "
          "reconstructions (the mean image decoded from the code m), and as many prior samples (at least "
          "{min_samples}: the mean image E[x|z] decoded from z ~ N(0, I), which is what VAE samples usually "
          "show).").format(n_test=TEST_IMAGES, min_samples=MIN_SAMPLES),
        _("Blur: two standard sharpness measures per image, averaged over the images: the mean gradient "
          "magnitude (forward differences, pixel value per pixel) and the variance of the 4-neighbour "
          "Laplacian ((pixel value)²); both are larger for sharper images. We also score one draw x ~ p(x|z) "
          "at each sample's code: if the draws are sharp where the means are not, the blur comes from showing "
          "the mean of a pixelwise-independent decoder."),
        _("Copying: for every sample, test image and reconstruction, the RMS pixel distance to its nearest "
          "image in the whole training split (an exhaustive search, chunked). Test images are new images of "
          "the same kind: if samples were much closer to the training images than test images are, the model "
          "would be copying. Reconstructions are equally blurred but, being of test images, are no copies: "
          "they show how much of a difference the blur alone makes. We report the medians, the fraction of "
          "samples closer than the median test image (about 50 % for samples that are like test images) and "
          "the fraction closer than the closest {near:.0%} of test images (near-copies; about {near:.0%} if "
          "none).").format(near=NEAR),
        _("Blending: the lecture's own words are that a VAE may produce only linear combinations of the database. "
          "For every sample, test image and reconstruction we find its {k} nearest training images and the "
          "non-negative weights that best rebuild it from them (non-negative least squares), and report what is "
          "left over as an RMS pixel distance. A sample that is only a blend of training images leaves less over "
          "than a new image of the same kind (a test image) does.").format(k=BLEND_K)])


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    model = ctx.train("image-vae").model
    plan = ctx.plan
    train = load(plan.data, "train", data_dir=plan.data_dir)
    test = load(plan.data, "test", data_dir=plan.data_dir)
    n = min(TEST_IMAGES, len(test))
    n_samples = max(n, MIN_SAMPLES)
    data = test.images[:n].to(ctx.device).float().div(255)                   # (n, C, H, W) in [0, 1]
    g = ctx.generator(5)
    with torch.no_grad():
        recon = model.reconstruct(test.model_input(model.likelihood, ctx.device)[:n])
        z = torch.randn(n_samples, model.latent_dim, generator=g, device=ctx.device)
        p = model.decode(z)
        samples, draws = p.mean, _draw(p, g).clamp(0, 1)                    # (n_s, C, H, W) each
        shown_z = z[:CODES].repeat_interleave(DRAWS, 0)                      # (CODES·DRAWS, L)
        shown_draws = _draw(model.decode(shown_z), g).clamp(0, 1)

    kinds = {"data": (_("test images"), data), "recon": (_("reconstructions"), recon),
             "samples": (_("prior samples (means)"), samples), "draws": (_("draws from p(x|z)"), draws)}
    rows = []
    for key, (label, images) in kinds.items():
        grad, lap = gradient_magnitude(images).mean(), laplacian_variance(images).mean()
        number(section, f"grad_{key}", grad, _("pixel value per pixel"),
               _("mean gradient magnitude: {images}").format(images=label))
        number(section, f"lap_{key}", lap, _("(pixel value)²"), _("variance of the Laplacian: {images}").format(
            images=label))
        rows.append([label, len(images), grad.item(), lap.item()])
    number(section, "grad_ratio", section.number_of("grad_samples") / max(section.number_of("grad_data"), 1e-12),
           "×", _("mean gradient magnitude of the samples over the data's"))
    table(section, _("Sharpness, mean over the images (larger is sharper; pixels in [0, 1])"),
          [_("images"), _("count"), _("mean gradient magnitude (pixel value / pixel)"), _("variance of the Laplacian")],
          rows)

    queries = torch.cat([samples, data, recon])
    dist, index = nearest_images(queries, train.images)
    d_samples, d_test, d_recon = dist[:n_samples], dist[n_samples:n_samples + n], dist[n_samples + n:]
    median_test = d_test.median()
    near = torch.quantile(d_test, NEAR)
    rms = _("RMS pixel distance")
    groups = (("samples", _("prior samples")), ("test", _("test images")),
              ("recon", _("reconstructions of test images")))
    for (key, what), d in zip(groups, (d_samples, d_test, d_recon)):
        number(section, f"near_median_{key}", d.median(), rms,
               _("{images}: median distance to the nearest training image").format(images=what))
    number(section, "near_closer", 100 * (d_samples < median_test).float().mean(), "%",
           _("samples closer to a training image than the median test image"))
    number(section, "near_copies", 100 * (d_samples < near).float().mean(), "%",
           _("samples closer than the closest {near:.0%} of test images (near-copies)").format(near=NEAR))
    # "only linear combinations of the database": each image's best non-negative blend of its BLEND_K
    # nearest training images, and what is left over
    blend = blend_residuals(queries, train.images, BLEND_K)[0]
    b_samples, b_test, b_recon = blend[:n_samples], blend[n_samples:n_samples + n], blend[n_samples + n:]
    for (key, what), b in zip(groups, (b_samples, b_test, b_recon)):
        number(section, f"blend_median_{key}", b.median(), rms,
               _("{images}: median residual of the best non-negative blend of its {k} nearest training "
                 "images").format(images=what, k=BLEND_K))
    number(section, "blend_closer", 100 * (b_samples < b_test.median()).float().mean(), "%",
           _("samples better explained as such a blend than the median test image"))
    number(section, "blend_k", BLEND_K, _("images"), _("training images in each blend"))
    _more_seeds(ctx, section, train, n_samples)
    number(section, "n_train", len(train), _("images"), _("training images searched"))
    number(section, "n_test", n, _("images"), _("test images (and reconstructions)"))
    number(section, "n_samples", n_samples, _("images"), _("prior samples"))

    nearest = train.images[index.cpu()].float().div(255)
    shown_test = n_samples + torch.arange(min(SHOWN, n))
    ctx.figure(section, "problems-nearest", pairs_png([
        Pairs(_("prior samples (mean images) | nearest training image"), samples[:SHOWN].cpu(), nearest[:SHOWN],
              d_samples[:SHOWN]),
        Pairs(_("test images | nearest training image"), data[:SHOWN].cpu(), nearest[shown_test], d_test[:SHOWN]),
    ]), _("Left: prior samples (the mean image E[x|z], z ~ N(0, I)), each beside its nearest training image in "
          "pixel space; right: real held-out test images, each beside theirs. d: RMS pixel distance (pixels "
          "in [0, 1])."),
        _("Pairs of images: samples and test images, each next to its nearest training image."), width=900)
    ctx.figure(section, "problems-distances", distance_hist_png(
        {_("prior samples"): d_samples, _("test images"): d_test, _("test reconstructions"): d_recon}, len(train)),
        _("Distribution of the distance to the nearest training image, for prior samples, held-out test "
          "images and the test images' reconstructions; dashed lines: medians."),
        _("Histograms of nearest-training-image distances for samples, test images and reconstructions."), width=700)
    ctx.figure(section, "problems-mean-vs-draws", mean_vs_draws_png(
        samples[:CODES].cpu(), shown_draws.view(CODES, DRAWS, *samples.shape[1:]).cpu(), model.likelihood),
        _("For a few codes z ~ N(0, I): the mean image E[x|z] that samples usually show (left), and draws x "
          "from p(x|z) at the same code. The decoder's pixels are independent given z: a draw is sharp but "
          "speckled, the mean is smooth and blurred."),
        _("Rows of images: a blurry mean image followed by noisy draws from the decoder at the same code."),
        width=600)
    ctx.explore(section, _("the image VAE (its samples, nearest training images and copy check)"), "image-vae")
    section.conclusion = conclusion(section.numbers)
    return section


def _more_seeds(ctx, section, train, n_samples: int) -> None:
    """The samples' headline measures (sharpness, nearest training image, blend residual) once per seed:
    the first seed's are already in ``section``; each further seed's image VAE draws its own samples."""
    keys = ("grad_samples", "near_median_samples", "blend_median_samples")
    values = {key: [section.number_of(key)] for key in keys}
    for seed in list(ctx.seeds)[1:]:
        model = ctx.train("image-vae", seed).model
        with torch.no_grad():
            z = torch.randn(n_samples, model.latent_dim, generator=ctx.generator(5), device=ctx.device)
            samples = model.decode(z).mean
        values["grad_samples"].append(gradient_magnitude(samples).mean().item())
        values["near_median_samples"].append(nearest_images(samples, train.images)[0].median().item())
        values["blend_median_samples"].append(blend_residuals(samples, train.images, BLEND_K)[0].median().item())
    for key in keys:
        entry = section.numbers[key]
        seeded_number(section, key, values[key], entry["unit"], entry["label"])


def _draw(p, generator: torch.Generator) -> torch.Tensor:
    """One draw x ~ p(x|z) of a decoder's distribution (Independent Bernoulli or Normal), seeded."""
    base = p.base_dist
    if isinstance(base, Bernoulli):
        return torch.bernoulli(base.probs, generator=generator)
    noise = torch.randn(base.loc.shape, generator=generator, device=base.loc.device)
    return base.loc + base.scale * noise


def conclusion(numbers: dict) -> str:
    """Sentences from the measured numbers ({key: {"value": ...}}), saying what they show."""
    def v(key):
        return numbers[key]["value"]

    gd, gr, gs, gdr = v("grad_data"), v("grad_recon"), v("grad_samples"), v("grad_draws")
    ld, ls = v("lap_data"), v("lap_samples")
    out = []
    if gs < 0.9 * gd:
        out.append(_("The samples are blurrier than the data: mean gradient magnitude {gs:.3f} against {gd:.3f} "
                     "({share:.0%} of the data's), variance of the Laplacian {ls:.3f} against {ld:.3f}; the "
                     "reconstructions score {gr:.3f}.").format(gs=gs, gd=gd, share=gs / gd, ls=ls, ld=ld, gr=gr))
    else:
        out.append(_("Unexpectedly, the samples are not blurrier than the data by the gradient measure: "
                     "{gs:.3f} against {gd:.3f} (variance of the Laplacian {ls:.3f} against {ld:.3f}).").format(
            gs=gs, gd=gd, ls=ls, ld=ld))
    if gdr > gs:
        out.append(_("A draw from p(x|z) at the same codes scores {gdr:.3f}, {ratio:.1f}× the mean "
                     "image's: the blur is in the mean E[x|z] of a decoder whose pixels are independent given z, "
                     "not in the draws (which are sharp but speckled with independent pixel noise).").format(
            gdr=gdr, ratio=gdr / max(gs, 1e-12)))
    else:
        out.append(_("A draw from p(x|z) is no sharper than the mean image ({gdr:.3f} against {gs:.3f}).").format(
            gdr=gdr, gs=gs))

    ms, mt, mr = v("near_median_samples"), v("near_median_test"), v("near_median_recon")
    closer, copies = v("near_closer"), v("near_copies")
    if ms < 0.9 * mt:
        out.append(_("The samples are closer to their nearest training image than held-out test images are: "
                     "median {ms:.3f} against {mt:.3f} RMS; {closer:.0f} % of samples are closer than the median "
                     "test image (50 % if they were like test images), {copies:.0f} % closer than the closest "
                     "{near:.0%} of test images.").format(ms=ms, mt=mt, closer=closer, copies=copies, near=NEAR))
        if mr <= 1.1 * ms:
            out.append(_("But the test images' reconstructions, which are blurred the same way and are no copies, "
                         "are as close ({mr:.3f}): a smooth mean image is nearer in RMS distance to its neighbours "
                         "than a sharp image is, so the gap measures the blur more than copying.").format(mr=mr))
        else:
            out.append(_("Even the test images' reconstructions, blurred the same way, are farther ({mr:.3f}): the "
                         "samples stay near training images, the copying the lecture warns of.").format(mr=mr))
    elif ms > 1.1 * mt:
        out.append(_("The samples are farther from every training image than held-out test images are (median "
                     "{ms:.3f} against {mt:.3f} RMS; {closer:.0f} % closer than the median test image, "
                     "{copies:.0f} % near-copies): no sign of copying, rather images less like any real one "
                     "(reconstructions: {mr:.3f}).").format(ms=ms, mt=mt, closer=closer, copies=copies, mr=mr))
    else:
        out.append(_("The samples are about as far from their nearest training image as held-out test images "
                     "(median {ms:.3f} against {mt:.3f} RMS; {closer:.0f} % closer than the median test image, "
                     "{copies:.0f} % near-copies against {near:.0%} expected): no sign of copying in pixel space "
                     "(reconstructions: {mr:.3f}).").format(ms=ms, mt=mt, closer=closer, copies=copies, near=NEAR,
                                                           mr=mr))
    if "blend_median_samples" in numbers:
        bs, bt, br, bc, k = (v("blend_median_samples"), v("blend_median_test"), v("blend_median_recon"),
                             v("blend_closer"), v("blend_k"))
        if bs < 0.9 * bt and br <= 1.1 * bs:
            out.append(_("As blends of their {k} nearest training images (non-negative least squares), the samples "
                         "are explained better than test images: median residual {bs:.3f} against {bt:.3f} RMS, and "
                         "{bc:.0f} % of samples leave less than the median test image does; but so are the test "
                         "images' own reconstructions ({br:.3f}): a smooth mean image is easier to rebuild from "
                         "neighbours, so this too measures the blur as much as blending.").format(
                k=k, bs=bs, bt=bt, bc=bc, br=br))
        elif bs < 0.9 * bt:
            out.append(_("As blends of their {k} nearest training images (non-negative least squares), the samples "
                         "are explained better than test images: median residual {bs:.3f} against {bt:.3f} RMS, and "
                         "{bc:.0f} % of samples leave less than the median test image does, and more so than the "
                         "test images' reconstructions ({br:.3f}): the samples are close to linear combinations of "
                         "the database, as the lecture warns.").format(k=k, bs=bs, bt=bt, bc=bc, br=br))
        else:
            text = (_("As blends of their {k} nearest training images (non-negative least squares), the samples "
                      "leave more unexplained than test images do (median residual {bs:.3f} against {bt:.3f} RMS; "
                      "reconstructions {br:.3f}): they are no more linear combinations of the database than new "
                      "images are.") if bs > 1.1 * bt else
                    _("As blends of their {k} nearest training images (non-negative least squares), the samples "
                      "leave about as much unexplained as test images do (median residual {bs:.3f} against "
                      "{bt:.3f} RMS; reconstructions {br:.3f}): they are no more linear combinations of the "
                      "database than new images are."))
            out.append(text.format(k=k, bs=bs, bt=bt, br=br))
    return sentences(out)
