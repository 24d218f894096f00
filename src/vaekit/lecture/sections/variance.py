"""Section 2: the variance constraint.  Without the KL term, σ collapses and the VAE becomes an AE."""

from __future__ import annotations

import math
import sys

import torch

from ...data import load
from ...eval.nearest import nearest_images
from ...eval.posterior import COLLAPSED, encode_all, reconstruction, variance_stats
from ...i18n import N_, _, ngettext, sentences
from ...viz.variance import penalty_png, samples_pair_png, sigma_hist_png
from ..context import number, seeded_number, table

NUMBER = 2
ID = "variance"
TITLE = N_("The variance constraint")
CLAIM = N_(
    "The encoder gives each image a code m and a noise level σ, the log of the noise variance exp(σ); "
    "the decoder sees the noisy code c = m + exp(σ/2)·e with e ~ N(0, I). If the model only minimised "
    "the reconstruction error it would learn σ → −∞ (no noise), so that codes of different images never "
    "overlap: it would be a plain autoencoder. The KL term adds, per latent dimension, "
    "exp(σ) − (1 + σ) + m² (times ½): the blue curve exp(σ) minus the red line 1 + σ, the green curve, "
    "which is 0 only at σ = 0, variance 1. It keeps the noise in, and keeps the codes where the prior "
    "N(0, I) draws them, so that decoding a draw from the prior gives an image."
)
MAX_TEST = 1000   # test images scored (the first ones): bounds the time on MNIST's 10,000
SAMPLES = 64
NN_TEST = 256     # real test images whose nearest-training distance is the reference for the samples'


def method() -> str:
    """How the experiment tests the claim (paragraphs)."""
    return "\n\n".join([
        _("The same VAE is trained twice on the image data, with the KL term (β = 1, the true bound) and "
          "without it (β = 0, the reconstruction error alone); everything else (architecture, epochs, seed) is "
          "the same. Both encode the test images (the first 1,000 where there are more), binarised or "
          "dequantised as the model was trained (Dataset.model_input)."),
        _("Per model: the histogram of the learned σ over every test image and latent dimension; the mean "
          "noise variance exp(σ) (1 under the prior) and the share of entries with exp(σ) < {collapsed}; the "
          "reconstruction error −E log p(x|c) in nats per image (one noisy code c per image) and the mean "
          "squared pixel error between the input image (as the model sees it, binarised or dequantised; pixels "
          "in [0, 1]) and the mean image decoded from m; the KL term in nats per image; and the prior mismatch "
          "E‖c‖²/L, the noisy codes' mean square per latent dimension, which is 1 when the codes fill the prior "
          "N(0, I) the way its draws do.").format(collapsed=COLLAPSED),
        _("Then {samples} draws z ~ N(0, I), the same draws for both models, decoded to mean images. How "
          "much a decoded draw looks like data is measured by its RMS pixel distance to the nearest training "
          "image (pixels in [0, 1]; median over the draws), beside the same distance for real test images (the "
          "first {nn_test}).").format(samples=SAMPLES, nn_test=NN_TEST)])


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    names = {"kl": "image-vae", "nokl": "image-vae-nokl"}
    runs = {key: ctx.train(name) for key, name in names.items()}
    test = load(ctx.plan.data, "test", data_dir=ctx.plan.data_dir)
    train = load(ctx.plan.data, "train", data_dir=ctx.plan.data_dir)
    n = min(len(test), MAX_TEST)
    log_vars, samples = {}, {}
    per_seed = {key: [] for key in names}      # each seed's stats of each model; the figures show the first seed
    with torch.no_grad():
        for seed in ctx.seeds:
            for key, name in names.items():
                model = ctx.train(name, seed).model
                x = test.model_input(model.likelihood, device=ctx.device)[:n]
                m, log_var = encode_all(model, x)
                stats = {**variance_stats(m, log_var), **reconstruction(model, x, x, generator=ctx.generator(21))}
                drawn = model.sample(SAMPLES, generator=ctx.generator(22))
                stats["sample_nn"] = nearest_images(drawn, train.images)[0].median().item()
                per_seed[key].append(stats)
                if seed == 0:
                    log_vars[key], samples[key] = log_var, drawn
        test_nn = nearest_images(test.images[:NN_TEST].to(ctx.device), train.images)[0].median().item()
    stats = {key: per_seed[key][0] for key in names}
    labels = {"kl": _("with KL (β = 1)"), "nokl": _("without KL (β = 0)")}
    nats, per_dim = _("nats per image"), _("per latent dimension")
    rows = [("mean_exp_sigma", _("mean noise variance exp(σ)"), _("variance"), "{:.3g}"),
            ("median_sigma", _("median σ"), _("log variance"), "{:.2f}"),
            ("collapsed", _("share of exp(σ) < {collapsed}").format(collapsed=COLLAPSED), _("fraction"), "{:.1%}"),
            ("recon", _("reconstruction error −E log p(x|c)"), nats, "{:.2f}"),
            ("mse", _("pixel MSE, input vs decoded mean image"), _("pixels in [0, 1], squared"), "{:.4f}"),
            ("kl", "KL(q(z|x) ‖ N(0, I))", nats, "{:.2f}"),
            ("second_moment", _("prior mismatch E‖c‖²/L (prior: 1)"), per_dim, "{:.3g}"),
            ("mean_m_sq", _("mean ‖m‖²/L"), per_dim, "{:.3g}"),
            ("sample_nn", _("prior samples: median distance to the nearest training image"), _("RMS pixel distance"),
             "{:.3f}")]
    for key, label, unit, _fmt in rows:
        for model_key, model_label in labels.items():
            seeded_number(section, f"{key}_{model_key}", [st[key] for st in per_seed[model_key]], unit,
                          _("{label}, {model}").format(label=label, model=model_label))
    number(section, "test_nn", test_nn, _("RMS pixel distance"),
           _("test images: median distance to the nearest training image"))
    number(section, "latent", runs["kl"].model.latent_dim, _("dimensions"), _("latent dimensions L"))
    number(section, "n_test", n, _("images"), _("test images scored"))
    table(section, _("Both models on {n} test images ({data}; the first seed)").format(n=n, data=ctx.plan.data),
          [_("quantity"), _("unit"), labels["kl"], labels["nokl"]],
          [[label, unit, fmt.format(stats["kl"][key]), fmt.format(stats["nokl"][key])]
           for key, label, unit, fmt in rows])
    ctx.figure(section, "variance-curves", penalty_png(),
               _("The lecture's curves: exp(σ) (blue), 1 + σ (red) and their difference exp(σ) − (1 + σ) "
                 "(green), the σ part of the KL term per latent dimension; its minimum, 0, is at σ = 0, "
                 "variance exp(σ) = 1."),
               _("Three curves over σ from −3 to 2: an exponential, a straight line tangent to it at σ = 0, "
                 "and their difference, a convex curve touching 0 at σ = 0."), width=600)
    ctx.figure(section, "variance-sigma-hist",
               sigma_hist_png({labels[k]: v for k, v in log_vars.items()}),
               _("Learned σ over {n} test images × {latent} latent dimensions. "
                 "Mean exp(σ): {with_kl:.3g} with KL, {without:.3g} without.").format(
                   n=n, latent=runs["kl"].model.latent_dim, with_kl=stats["kl"]["mean_exp_sigma"],
                   without=stats["nokl"]["mean_exp_sigma"]),
               _("Two histograms of σ: the model trained with the KL term, and the one trained without it."),
               width=650)
    ctx.figure(section, "variance-samples",
               samples_pair_png(samples["kl"].cpu(), samples["nokl"].cpu(), (labels["kl"], labels["nokl"])),
               _("{samples} draws z ~ N(0, I) decoded to mean images by each model (the same draws for both).").format(
                   samples=SAMPLES),
               _("Two grids of decoded prior samples side by side: left the VAE with the KL term, right without."),
               width=800)
    ctx.explore(section, _("the image VAE with and without the KL term"), "image-vae", "image-vae-nokl")
    section.conclusion = conclusion(section.numbers)
    return section


def _v(numbers: dict, key: str) -> float:
    value = numbers[key]["value"]
    return float("nan") if value is None else float(value)


def conclusion(numbers: dict) -> str:
    """What the numbers show: the variance, the reconstruction, the fit to the prior, the samples."""
    var_kl, var_no = _v(numbers, "mean_exp_sigma_kl"), _v(numbers, "mean_exp_sigma_nokl")
    col_kl, col_no = _v(numbers, "collapsed_kl"), _v(numbers, "collapsed_nokl")
    rec_kl, rec_no = _v(numbers, "recon_kl"), _v(numbers, "recon_nokl")
    mse_kl, mse_no = _v(numbers, "mse_kl"), _v(numbers, "mse_nokl")
    mom_kl, mom_no = _v(numbers, "second_moment_kl"), _v(numbers, "second_moment_nokl")
    kl_kl, kl_no = _v(numbers, "kl_kl"), _v(numbers, "kl_nokl")
    nn_kl, nn_no, nn_test = _v(numbers, "sample_nn_kl"), _v(numbers, "sample_nn_nokl"), _v(numbers, "test_nn")
    out = []
    per_kl = numbers["mean_exp_sigma_kl"].get("seeds")
    per_no = numbers["mean_exp_sigma_nokl"].get("seeds")
    seeds_held = ""
    if per_kl and per_no:    # measured over seeds: say in how many the collapse held
        held = sum(1 for a, b in zip(per_no, per_kl) if a is not None and b is not None and a < 0.1 * b)
        seeds_held = ngettext("It fell below a tenth in {held} of {n} seed (the numbers are means over the seeds).",
                              "It fell below a tenth in {held} of {n} seeds (the numbers are means over the seeds).",
                              len(per_kl)).format(n=len(per_kl), held=held)
    if var_no < 0.1 * var_kl:
        out.append(_("Without the KL term the noise variance collapses: mean exp(σ) is {var_no:.3g} against "
                     "{var_kl:.3g} with it{seeds} ({col_no:.0%} of the entries below {collapsed}, against "
                     "{col_kl:.0%}).").format(var_no=var_no, var_kl=var_kl, seeds="", col_no=col_no,
                                              collapsed=COLLAPSED, col_kl=col_kl))
        if seeds_held:
            out.append(seeds_held)
    elif var_no < var_kl:
        out.append(_("Without the KL term the noise variance falls, but less than expected: mean exp(σ) is "
                     "{var_no:.3g} against {var_kl:.3g} with it ({col_no:.0%} of the entries below {collapsed}, "
                     "against {col_kl:.0%}).").format(var_no=var_no, var_kl=var_kl, col_no=col_no,
                                                      collapsed=COLLAPSED, col_kl=col_kl))
    else:
        out.append(_("Unexpectedly, the noise variance did not fall without the KL term: mean exp(σ) is "
                     "{var_no:.3g} against {var_kl:.3g} with it.").format(var_no=var_no, var_kl=var_kl))
    mse = _("the pixel MSE {mse_no:.4f} against {mse_kl:.4f}").format(mse_no=mse_no, mse_kl=mse_kl)
    if rec_no < rec_kl:
        text = (_("Free of the constraint the model reconstructs better, as an autoencoder would: "
                  "−E log p(x|c) is {rec_no:.2f} nats per image against {rec_kl:.2f}, and {mse}.")
                if mse_no <= mse_kl else
                _("Free of the constraint the model reconstructs better, as an autoencoder would: "
                  "−E log p(x|c) is {rec_no:.2f} nats per image against {rec_kl:.2f}, and {mse} (higher, although "
                  "the likelihood is better)."))
        out.append(text.format(rec_no=rec_no, rec_kl=rec_kl, mse=mse))
    else:
        out.append(_("Unexpectedly, dropping the KL term did not lower the reconstruction error: "
                     "{rec_no:.2f} nats per image against {rec_kl:.2f} with it ({mse}).").format(
            rec_no=rec_no, rec_kl=rec_kl, mse=mse))
    if abs(math.log(mom_no)) > abs(math.log(mom_kl)):
        out.append(_("What it gives up is the prior: its noisy codes' mean square per dimension, E‖c‖²/L, is "
                     "{mom_no:.3g} where N(0, I) has 1 (with the KL term: {mom_kl:.3g}), and its KL to the prior "
                     "is {kl_no:.3g} nats per image against {kl_kl:.3g}, so draws z ~ N(0, I) fall where its "
                     "decoder saw few codes.").format(mom_no=mom_no, mom_kl=mom_kl, kl_no=kl_no, kl_kl=kl_kl))
    else:
        out.append(_("Unexpectedly, its codes fit the prior no worse: E‖c‖²/L is {mom_no:.3g} (prior: 1) against "
                     "{mom_kl:.3g} with the KL term (KL to the prior {kl_no:.3g} against {kl_kl:.3g} nats per "
                     "image).").format(mom_no=mom_no, mom_kl=mom_kl, kl_no=kl_no, kl_kl=kl_kl))
    if nn_no > nn_kl:
        out.append(_("Its prior samples are further from anything in the data: the median RMS pixel distance to "
                     "the nearest training image is {nn_no:.3f} against {nn_kl:.3f} with the KL term "
                     "(real test images: {nn_test:.3f}).").format(nn_no=nn_no, nn_kl=nn_kl, nn_test=nn_test))
    else:
        out.append(_("Its prior samples are, unexpectedly, no further from the data: the median RMS pixel distance "
                     "to the nearest training image is {nn_no:.3f} against {nn_kl:.3f} with the KL term "
                     "(real test images: {nn_test:.3f}).").format(nn_no=nn_no, nn_kl=nn_kl, nn_test=nn_test))
    return sentences(out)
