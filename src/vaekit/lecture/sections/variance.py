"""Section 2: the variance constraint.  Without the KL term, σ collapses and the VAE becomes an AE."""

from __future__ import annotations

import math
import sys

import torch

from ...data import load
from ...eval.nearest import nearest_images
from ...eval.posterior import COLLAPSED, encode_all, reconstruction, variance_stats
from ...viz.variance import penalty_png, samples_pair_png, sigma_hist_png
from ..context import number, seeded_number, table

NUMBER = 2
ID = "variance"
TITLE = "The variance constraint"
CLAIM = (
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
METHOD = (
    "The same VAE is trained twice on the image data, with the KL term (β = 1, the true bound) and "
    "without it (β = 0, the reconstruction error alone); everything else (architecture, epochs, seed) is "
    "the same. Both encode the test images (the first 1,000 where there are more), binarised or "
    "dequantised as the model was trained (Dataset.model_input).\n\n"
    f"Per model: the histogram of the learned σ over every test image and latent dimension; the mean "
    f"noise variance exp(σ) (1 under the prior) and the share of entries with exp(σ) < {COLLAPSED}; the "
    "reconstruction error −E log p(x|c) in nats per image (one noisy code c per image) and the mean "
    "squared pixel error between the input image (as the model sees it, binarised or dequantised; pixels "
    "in [0, 1]) and the mean image decoded from m; the KL term in nats per image; and the prior mismatch "
    "E‖c‖²/L, the noisy codes' mean square per latent dimension, which is 1 when the codes fill the prior "
    "N(0, I) the way its draws do.\n\n"
    f"Then {SAMPLES} draws z ~ N(0, I), the same draws for both models, decoded to mean images. How "
    "much a decoded draw looks like data is measured by its RMS pixel distance to the nearest training "
    "image (pixels in [0, 1]; median over the draws), beside the same distance for real test images (the "
    f"first {NN_TEST})."
)


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
    labels = {"kl": "with KL (β = 1)", "nokl": "without KL (β = 0)"}
    rows = [("mean_exp_sigma", "mean noise variance exp(σ)", "variance", "{:.3g}"),
            ("median_sigma", "median σ", "log variance", "{:.2f}"),
            ("collapsed", f"share of exp(σ) < {COLLAPSED}", "fraction", "{:.1%}"),
            ("recon", "reconstruction error −E log p(x|c)", "nats per image", "{:.2f}"),
            ("mse", "pixel MSE, input vs decoded mean image", "pixels in [0, 1], squared", "{:.4f}"),
            ("kl", "KL(q(z|x) ‖ N(0, I))", "nats per image", "{:.2f}"),
            ("second_moment", "prior mismatch E‖c‖²/L (prior: 1)", "per latent dimension", "{:.3g}"),
            ("mean_m_sq", "mean ‖m‖²/L", "per latent dimension", "{:.3g}"),
            ("sample_nn", "prior samples: median distance to the nearest training image", "RMS pixel distance",
             "{:.3f}")]
    for key, label, unit, _ in rows:
        for model_key, model_label in labels.items():
            seeded_number(section, f"{key}_{model_key}", [st[key] for st in per_seed[model_key]], unit,
                          f"{label}, {model_label}")
    number(section, "test_nn", test_nn, "RMS pixel distance",
           "test images: median distance to the nearest training image")
    number(section, "latent", runs["kl"].model.latent_dim, "dimensions", "latent dimensions L")
    number(section, "n_test", n, "images", "test images scored")
    table(section, f"Both models on {n} test images ({ctx.plan.data}; the first seed)",
          ["quantity", "unit", labels["kl"], labels["nokl"]],
          [[label, unit, fmt.format(stats["kl"][key]), fmt.format(stats["nokl"][key])]
           for key, label, unit, fmt in rows])
    ctx.figure(section, "variance-curves", penalty_png(),
               "The lecture's curves: exp(σ) (blue), 1 + σ (red) and their difference exp(σ) − (1 + σ) "
               "(green), the σ part of the KL term per latent dimension; its minimum, 0, is at σ = 0, "
               "variance exp(σ) = 1.",
               "Three curves over σ from −3 to 2: an exponential, a straight line tangent to it at σ = 0, "
               "and their difference, a convex curve touching 0 at σ = 0.", width=600)
    ctx.figure(section, "variance-sigma-hist",
               sigma_hist_png({labels[k]: v for k, v in log_vars.items()}),
               f"Learned σ over {n} test images × {runs['kl'].model.latent_dim} latent dimensions. "
               f"Mean exp(σ): {stats['kl']['mean_exp_sigma']:.3g} with KL, "
               f"{stats['nokl']['mean_exp_sigma']:.3g} without.",
               "Two histograms of σ: the model trained with the KL term, and the one trained without it.",
               width=650)
    ctx.figure(section, "variance-samples",
               samples_pair_png(samples["kl"].cpu(), samples["nokl"].cpu(), (labels["kl"], labels["nokl"])),
               f"{SAMPLES} draws z ~ N(0, I) decoded to mean images by each model (the same draws for both).",
               "Two grids of decoded prior samples side by side: left the VAE with the KL term, right without.",
               width=800)
    ctx.explore(section, "the image VAE with and without the KL term", "image-vae", "image-vae-nokl")
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
    shares = f"{col_no:.0%} of the entries below {COLLAPSED}, against {col_kl:.0%}"
    if per_kl and per_no:    # measured over seeds: say in how many the collapse held
        held = sum(1 for a, b in zip(per_no, per_kl) if a is not None and b is not None and a < 0.1 * b)
        n = len(per_kl)
        detail = f", below a tenth of it in {held} of {n} seed{'s' if n != 1 else ''} (means over the seeds; {shares})"
    else:
        detail = f" ({shares})"
    if var_no < 0.1 * var_kl:
        out.append(f"Without the KL term the noise variance collapses: mean exp(σ) is {var_no:.3g} against "
                   f"{var_kl:.3g} with it{detail}.")
    elif var_no < var_kl:
        out.append(f"Without the KL term the noise variance falls, but less than expected: mean exp(σ) is "
                   f"{var_no:.3g} against {var_kl:.3g} with it ({col_no:.0%} of the entries below {COLLAPSED}, "
                   f"against {col_kl:.0%}).")
    else:
        out.append(f"Unexpectedly, the noise variance did not fall without the KL term: mean exp(σ) is "
                   f"{var_no:.3g} against {var_kl:.3g} with it.")
    mse = f"the pixel MSE {mse_no:.4f} against {mse_kl:.4f}"
    if rec_no < rec_kl:
        out.append(f"Free of the constraint the model reconstructs better, as an autoencoder would: "
                   f"−E log p(x|c) is {rec_no:.2f} nats per image against {rec_kl:.2f}, and "
                   + (f"{mse}." if mse_no <= mse_kl else f"{mse} (higher, although the likelihood is better)."))
    else:
        out.append(f"Unexpectedly, dropping the KL term did not lower the reconstruction error: "
                   f"{rec_no:.2f} nats per image against {rec_kl:.2f} with it ({mse}).")
    if abs(math.log(mom_no)) > abs(math.log(mom_kl)):
        out.append(f"What it gives up is the prior: its noisy codes' mean square per dimension, E‖c‖²/L, is "
                   f"{mom_no:.3g} where N(0, I) has 1 (with the KL term: {mom_kl:.3g}), and its KL to the prior "
                   f"is {kl_no:.3g} nats per image against {kl_kl:.3g}, so draws z ~ N(0, I) fall where its "
                   "decoder saw few codes.")
    else:
        out.append(f"Unexpectedly, its codes fit the prior no worse: E‖c‖²/L is {mom_no:.3g} (prior: 1) against "
                   f"{mom_kl:.3g} with the KL term (KL to the prior {kl_no:.3g} against {kl_kl:.3g} nats per image).")
    if nn_no > nn_kl:
        out.append(f"Its prior samples are further from anything in the data: the median RMS pixel distance to "
                   f"the nearest training image is {nn_no:.3f} against {nn_kl:.3f} with the KL term "
                   f"(real test images: {nn_test:.3f}).")
    else:
        out.append(f"Its prior samples are, unexpectedly, no further from the data: the median RMS pixel distance "
                   f"to the nearest training image is {nn_no:.3f} against {nn_kl:.3f} with the KL term "
                   f"(real test images: {nn_test:.3f}).")
    return " ".join(out)
