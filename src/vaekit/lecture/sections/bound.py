"""Section 4: maximum likelihood and the lower bound L_b, its gap, and a case where the gap is known."""

from __future__ import annotations

import sys

import torch

from ...data import linear_gaussian, load
from ...eval.posterior import bounds_by_k, encode_all, mean_se, refine_q, variance_stats
from ...viz.bound import bounds_vs_k_png, linear_bound_png, training_bound_png
from ..context import number, seeded_number, table

NUMBER = 4
ID = "bound"
TITLE = "Maximum likelihood and the lower bound"
CLAIM = (
    "Training should maximise the log-likelihood log P(x) = log ∫ P(z) P(x|z) dz, which cannot be computed. "
    "For any distribution q(z|x), log P(x) = L_b + KL(q(z|x) ‖ P(z|x)), where the lower bound "
    "L_b = E_q[log P(x|z)] − KL(q(z|x) ‖ P(z)) can be computed; the KL term is ≥ 0, so L_b ≤ log P(x). "
    "The VAE maximises L_b over both the decoder P(x|z) and the encoder q(z|x) = N(m, diag exp(σ)). "
    "Adjusting q with P(x|z) fixed leaves log P(x) unchanged and raises L_b, so the gap "
    "KL(q(z|x) ‖ P(z|x)) shrinks: where q can equal the true posterior, the gap goes to 0; a better q "
    "gives a tighter bound."
)
K_MAX = 500                                             # importance samples per example for log p(x)
KS = (1, 2, 5, 10, 20, 50, 100, 250, K_MAX)             # every k divides K_MAX (eval.posterior.bounds_by_k)
LINEAR_K = 100                                          # the linear VAE's q is nearly its posterior: few samples
MAX_TEST = 500                                          # test examples scored (the first ones)
REFINE_STEPS, REFINE_SAMPLES = 50, 4                   # the fitted q: Adam steps, codes per step
REFINED_CODES = 100                                     # codes per image to average L_b under the fitted q
NOISE = 3.0                                             # "within noise": within this many standard errors
NEAR_ZERO = 0.05                                        # nats per example: a gap this small counts as ~0
METHOD = (
    "(a) While the image VAE trains (β = 1), every epoch scores the validation images: L_b (one noisy code "
    "per image) and log p(x) by importance sampling with the number of samples the plan sets "
    "(log (1/k) Σ p(x, z_i)/q(z_i|x), z_i ~ q(z|x)); their difference estimates the gap KL(q(z|x) ‖ P(z|x)).\n\n"
    "(b) The known answer: a linear VAE (q(z|x) = N(A x + c, diag exp(σ)), P(x|z) = N(W z + b, s² I)) "
    "trained on 16-dimensional data drawn from a linear-Gaussian model with a 2-D latent (probabilistic "
    "PCA). The learned model's log p(x) is exact (x ~ N(b, W Wᵀ + s² I)), and so is the data model's, the "
    "ceiling no model beats on average. The true posterior of a linear-Gaussian model is Gaussian, so q "
    "can match it and the gap can close. Per epoch on the validation points: L_b, the importance-sampled "
    f"estimate and the exact value; at the end on the test points (the first {MAX_TEST}), with "
    f"{LINEAR_K} samples per point (L_b averaged over them).\n\n"
    "(c) Does a better q shrink the gap? First the lecture's own step: keep the decoder P(x|z) fixed and "
    f"fit q(z|x) to each test image ({REFINE_STEPS} Adam steps on that image's m and σ, from the encoder's, "
    f"maximising its L_b with {REFINE_SAMPLES} noisy codes a step); L_b under the fitted q is averaged over "
    f"{REFINED_CODES} codes. Then a model trained for a better proposal: the same network trained with the "
    f"IWAE bound L_5 (Burda et al. 2016) against the image VAE. Both on the first {MAX_TEST} test images "
    "(binarised or dequantised as trained): "
    f"L_k = E[log (1/k) Σ_{{i≤k}} p(x, z_i)/q(z_i|x)] for k from 1 (L_1 = L_b) to {K_MAX}, whose value at "
    f"k = {K_MAX} is the log p(x) estimate. The {K_MAX} weights per image are cut into groups of k, and "
    "the group values averaged, so every k uses the same draws. Standard errors are over images; "
    f"\"within noise\" means within {NOISE:g} standard errors of the paired difference."
)


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    _training(ctx, section)
    _linear(ctx, section)
    _better_q(ctx, section)
    ctx.explore(section, "the image VAE trained on L_b and the one trained on the IWAE bound", "image-vae",
                "image-iwae")
    section.conclusion = conclusion(section.numbers)
    return section


def _series(history: list[dict], *keys: str) -> list[list[float]]:
    """The epochs (first list) and values of ``keys`` of the records that hold all of them."""
    rows = [r for r in history if all(isinstance(r.get(k), (int, float)) for k in keys)]
    return [[r["epoch"] for r in rows]] + [[r[k] for r in rows] for k in keys]


def _training(ctx, section) -> None:
    """(a) log p(x), L_b and the gap per epoch of the image VAE (from its history, val split)."""
    trained = ctx.train("image-vae")
    epochs, log_px, neg_elbo = _series(trained.history, "val_log_px", "val_loss")
    elbo = [-v for v in neg_elbo]
    k = trained.config.log_px_k
    number(section, "train_log_px", log_px[-1], "nats per image", f"final val log p(x), IS with k = {k}")
    number(section, "train_elbo", elbo[-1], "nats per image", "final val L_b")
    gaps = []
    for seed in ctx.seeds:        # the final gap of every seed's run; the curves are the first seed's
        _, lp, ne = _series(ctx.train("image-vae", seed).history, "val_log_px", "val_loss")
        gaps.append(lp[-1] + ne[-1])
    seeded_number(section, "train_gap", gaps, "nats per image", "final val gap log p(x) − L_b")
    number(section, "train_gap_first", log_px[0] - elbo[0], "nats per image",
           f"val gap log p(x) − L_b at epoch {epochs[0]}")
    number(section, "train_gap_negative_epochs", sum(a < b for a, b in zip(log_px, elbo)), "epochs",
           "epochs where the estimate of log p(x) fell below L_b (noise)")
    number(section, "train_epochs", len(epochs), "epochs", "epochs scored")
    ctx.figure(section, "bound-training", training_bound_png(epochs, log_px, elbo),
               f"The image VAE during training, on the validation images: log p(x) (importance sampled, "
               f"k = {k}) and L_b above, their gap, which estimates KL(q(z|x) ‖ P(z|x)), below. Nats per image.",
               "Two panels over epochs: log p(x) and L_b above; below, the gap between them.",
               width=650)


def _linear(ctx, section) -> None:
    """(b) The linear VAE: L_b, IS and exact log p(x) per epoch, and at the end on the test points."""
    trained = ctx.train("linear-vae")
    model = trained.model
    epochs, neg_elbo, log_px_is, exact = _series(trained.history, "val_loss", "val_log_px", "val_log_px_exact")
    elbo = [-v for v in neg_elbo]
    val = load("linear-gaussian", "val").model_input(model.likelihood, device=ctx.device)
    true_val = linear_gaussian.exact_log_prob(val).double().mean().item()
    k_train = trained.config.log_px_k
    ctx.figure(section, "bound-linear", linear_bound_png(epochs, elbo, log_px_is, exact, true_val, k_train),
               "The linear VAE on linear-Gaussian data, validation points, per epoch: L_b, the importance-sampled "
               f"log p(x) (k = {k_train}), the learned model's exact log p(x), and the data model's exact "
               "log p(x) (dashed, the ceiling); below, the gaps. Nats per point.",
               "Three curves over epochs (L_b, the IS estimate, the exact log p(x)) beneath a dashed horizontal "
               "line, the data model's log p(x); below, the gaps exact − L_b and exact − IS.", width=650)
    test = load("linear-gaussian", "test")
    x = test.model_input(model.likelihood, device=ctx.device)[:MAX_TEST]
    with torch.no_grad():
        bounds = bounds_by_k(model, x, (1, LINEAR_K), generator=ctx.generator(41))
        exact_test = model.exact_log_prob(x).double()
        true_test = linear_gaussian.exact_log_prob(x).double()
    values = {"elbo": bounds[1], "is": bounds[LINEAR_K], "exact": exact_test, "true": true_test}
    labels = {"elbo": f"L_b (mean over {LINEAR_K} codes per point)", "is": f"log p(x), IS with k = {LINEAR_K}",
              "exact": "exact log p(x) of the learned model", "true": "exact log p(x) of the data model (ceiling)"}
    for key, v in values.items():
        mean, se = mean_se(v)
        number(section, f"linear_{key}", mean, "nats per point", f"test: {labels[key]}")
        number(section, f"linear_{key}_se", se, "nats per point", f"test: standard error of {labels[key]}")
    for key, (hi, lo) in {"gap": ("exact", "elbo"), "exact_minus_is": ("exact", "is"),
                          "is_minus_elbo": ("is", "elbo"), "true_minus_exact": ("true", "exact")}.items():
        mean, se = mean_se(values[hi] - values[lo])
        number(section, f"linear_{key}", mean, "nats per point", f"test: {labels[hi]} − {labels[lo]}")
        number(section, f"linear_{key}_se", se, "nats per point", "test: standard error of that difference "
               "(first seed)")
    gaps = [section.number_of("linear_gap")]
    with torch.no_grad():
        for seed in list(ctx.seeds)[1:]:       # the gap exact − L_b of every further seed's run
            other = ctx.train("linear-vae", seed).model
            lb = bounds_by_k(other, x, (1,), generator=ctx.generator(41))[1]
            gaps.append((other.exact_log_prob(x).double() - lb).mean().item())
    seeded_number(section, "linear_gap", gaps, "nats per point", f"test: {labels['exact']} − {labels['elbo']}")
    number(section, "linear_val_gap", exact[-1] - elbo[-1], "nats per point",
           "final val gap: exact log p(x) − L_b (one code per point)")
    number(section, "linear_n", len(x), "points", "test points scored")


def _better_q(ctx, section) -> None:
    """(c) L_k against k on the test images for the image VAE and the IWAE-trained model, and L_b
    under a q fitted to each image with the decoder fixed."""
    models = {"vae": ("VAE (trained on L_1 = L_b)", ctx.train("image-vae").model),
              "iwae": ("IWAE (trained on L_5)", ctx.train("image-iwae").model)}
    test = load(ctx.plan.data, "test", data_dir=ctx.plan.data_dir)
    n = min(len(test), MAX_TEST)
    curves = {}
    with torch.no_grad():
        for key, (label, model) in models.items():
            x = test.model_input(model.likelihood, device=ctx.device)[:n]
            bounds = bounds_by_k(model, x, KS, generator=ctx.generator(42))
            q = refine_q(model, x, steps=REFINE_STEPS, samples=REFINE_SAMPLES, generator=ctx.generator(43))
            with_q = bounds_by_k(model, x, (1, REFINED_CODES), generator=ctx.generator(44), q=q)
            refined = with_q[1]
            stats = [mean_se(bounds[k]) for k in KS]
            gaps = [mean_se(bounds[K_MAX] - bounds[k]) for k in KS]
            curves[label] = {"bounds": [m for m, _ in stats], "gaps": [g for g, _ in gaps],
                             "gap_se": [se for _, se in gaps],
                             "fitted": (mean_se(refined)[0], mean_se(bounds[K_MAX] - refined)[0])}
            for k in (1, 5, 50, K_MAX):
                number(section, f"{key}_L{k}", stats[KS.index(k)][0], "nats per image",
                       f"test: L_{k} of the {label}" + (" (the log p(x) estimate)" if k == K_MAX else ""))
            number(section, f"{key}_L1_refined", mean_se(refined)[0], "nats per image",
                   f"test: L_b of the {label} with q fitted to each image, decoder fixed")
            number(section, f"{key}_logpx_refined", mean_se(with_q[REFINED_CODES])[0], "nats per image",
                   f"test: log p(x) of the {label}, IS with k = {REFINED_CODES} from the fitted q")
            for name, lower in (("gap1", bounds[1]), ("gap5", bounds[5]), ("gap1_refined", refined)):
                gap, se = mean_se(bounds[K_MAX] - lower)
                what = {"gap1": "L_b", "gap5": "L_5", "gap1_refined": "L_b with the fitted q"}[name]
                number(section, f"{key}_{name}", gap, "nats per image", f"test: log p(x) − {what}, {label}")
                number(section, f"{key}_{name}_se", se, "nats per image", "test: its standard error")
            number(section, f"{key}_mean_var", variance_stats(*encode_all(model, x))["mean_exp_sigma"], "variance",
                   f"test: mean noise variance exp(σ) of the encoder's q(z|x), {label}")
    number(section, "k_max", K_MAX, "samples", "importance samples per image for log p(x)")
    number(section, "n_test", n, "images", "test images scored in (c)")
    ctx.figure(section, "bound-vs-k", bounds_vs_k_png(KS, curves),
               f"Left: L_k on {n} test images ({ctx.plan.data}) against k, for the VAE and the IWAE-trained "
               f"model; L_1 is L_b, L_{K_MAX} the log p(x) estimate; stars: L_b under a q fitted to each image "
               "with the decoder fixed. Right: the gap log p(x) − L_k, nats per image, ± one standard error of "
               "the paired difference.",
               "Left, L_k of two models over a logarithmic k axis, with a star for each at k = 1; right, their "
               "gaps log p(x) − L_k on logarithmic axes.", width=860)
    v = section.numbers
    cols = ["model", "L_1 = L_b", "L_b, fitted q", "L_5", "L_50", f"L_{K_MAX} ≈ log p(x)",
            "log p(x) − L_b", "log p(x) − L_b, fitted q", "log p(x) − L_5"]
    rows = []
    for key, (label, _) in models.items():
        rows.append([label] + [f"{v[f'{key}_{name}']['value']:.2f}" for name in ("L1", "L1_refined", "L5", "L50",
                                                                                  f"L{K_MAX}")]
                    + [f"{v[f'{key}_{g}']['value']:.2f} ± {v[f'{key}_{g}_se']['value']:.2f}"
                       for g in ("gap1", "gap1_refined", "gap5")])
    table(section, f"The bounds on {n} test images, nats per image (gaps ± one standard error)", cols, rows)


def _v(numbers: dict, key: str) -> float:
    value = numbers[key]["value"]
    return float("nan") if value is None else float(value)


def _at_least(numbers: dict, key: str) -> bool:
    """Whether the paired difference ``key`` (a − b) is ≥ 0 within noise."""
    return _v(numbers, key) >= -NOISE * _v(numbers, f"{key}_se")


def conclusion(numbers: dict) -> str:
    """What the numbers show: the gap during training, the linear case, and the better q."""
    def v(key: str) -> float:
        return _v(numbers, key)

    out = []
    # (a) training
    gap, gap0, below = v("train_gap"), v("train_gap_first"), int(v("train_gap_negative_epochs"))
    head = (f"At the end of training the image VAE's log p(x) is {v('train_log_px'):.2f} nats per image and L_b "
            f"{v('train_elbo'):.2f}: ")
    if gap >= 0:
        out.append(head + f"the bound sits {gap:.2f} nats below, the KL(q(z|x) ‖ P(z|x)) that q leaves "
                   f"(it was {gap0:.2f} nats at the first epoch)"
                   + (f"; the estimate fell below L_b in {below} of {int(v('train_epochs'))} epochs, by noise."
                      if below else ", and log p(x) stayed above L_b at every epoch."))
    else:
        out.append(head + f"unexpectedly, the estimate of log p(x) ends {-gap:.2f} nats below L_b, which only "
                   "noise in the one-code L_b or too few importance samples can explain.")
    # (b) the linear VAE
    lg, lg_se = v("linear_gap"), v("linear_gap_se")
    lin = (f"The linear VAE reaches L_b = {v('linear_elbo'):.3f}, an IS estimate of {v('linear_is'):.3f} and an "
           f"exact log p(x) of {v('linear_exact'):.3f} nats per point on the test points, against "
           f"{v('linear_true'):.3f} for the data model itself: ")
    if -NOISE * lg_se <= lg <= NEAR_ZERO:
        lin += (f"the gap exact − L_b has closed to about zero, {lg:.3f} ± {lg_se:.1g} nats per point (against "
                f"{v('train_gap'):.2f} nats per image for the image VAE), because the true posterior is Gaussian "
                "and q can match it.")
    elif lg < 0:
        lin += (f"unexpectedly, L_b lies above the exact log p(x) by {-lg:.3f} ± {lg_se:.1g} nats per point, "
                "which a lower bound cannot do: a bug or an unlucky sample.")
    else:
        lin += (f"the gap exact − L_b is {lg:.3f} ± {lg_se:.1g} nats per point: unexpectedly, it did not close "
                f"to about zero (below {NEAR_ZERO} nats) as it can when q is able to match the posterior.")
    checks = {"exact ≥ IS": _at_least(numbers, "linear_exact_minus_is"),
              "IS ≥ L_b": _at_least(numbers, "linear_is_minus_elbo"),
              "ceiling ≥ exact": _at_least(numbers, "linear_true_minus_exact")}
    held = [name for name, ok in checks.items() if ok]
    failed = [name for name, ok in checks.items() if not ok]
    if not failed:
        lin += f" The order {', '.join(held)} holds within noise."
    else:
        lin += f" Unexpectedly, {', '.join(failed)} fails beyond noise" + (
            f" ({', '.join(held)} holds)." if held else ".")
    out.append(lin)
    # (c) a better q: the same decoder with a fitted q, then the IWAE-trained model
    k = int(v("k_max"))
    shrunk = {key: v(f"{key}_gap1_refined") < v(f"{key}_gap1") for key in ("vae", "iwae")}
    moves = (f"the VAE's gap log p(x) − L_b goes from {v('vae_gap1'):.2f} to {v('vae_gap1_refined'):.2f} nats per "
             f"image and the IWAE-trained model's from {v('iwae_gap1'):.2f} to {v('iwae_gap1_refined'):.2f}")
    stays = (f"while log p(x), which does not depend on q, stays put ({v('vae_logpx_refined'):.2f} and "
             f"{v('iwae_logpx_refined'):.2f} estimated from the fitted q, against {v(f'vae_L{k}'):.2f} and "
             f"{v(f'iwae_L{k}'):.2f})")
    if all(shrunk.values()):
        out.append(f"A better q shrinks the gap: fitting q(z|x) to each test image with the decoder fixed, {moves}, "
                   f"{stays}.")
    else:
        out.append(f"Unexpectedly, fitting q(z|x) to each test image with the decoder fixed did not shrink every gap: "
                   f"{moves}, {stays}.")
    g1v, g1i, g5v, g5i = v("vae_gap1"), v("iwae_gap1"), v("vae_gap5"), v("iwae_gap5")
    better = (f"Training with the IWAE bound gives a better model rather than a tighter ELBO: with {k} samples its "
              f"log p(x) is {v(f'iwae_L{k}'):.2f} nats per image against the VAE's {v(f'vae_L{k}'):.2f}"
              if v(f"iwae_L{k}") > v(f"vae_L{k}") else
              f"With {k} samples the IWAE-trained model's log p(x) is {v(f'iwae_L{k}'):.2f} nats per image, "
              f"unexpectedly no better than the VAE's {v(f'vae_L{k}'):.2f}")
    if g5i < g5v:
        better += (f"; the bound it was trained for is the tighter one, log p(x) − L_5 = {g5i:.2f} nats against "
                   f"{g5v:.2f} for the VAE")
    else:
        better += (f"; even the bound it was trained for is not tighter, log p(x) − L_5 = {g5i:.2f} nats against "
                   f"{g5v:.2f} for the VAE")
    if g1i < g1v:
        better += f", and so is its plain ELBO, log p(x) − L_b = {g1i:.2f} against {g1v:.2f}."
    else:
        better += f"; its plain ELBO gap log p(x) − L_b is larger, {g1i:.2f} against {g1v:.2f}"
        var_v, var_i = v("vae_mean_var"), v("iwae_mean_var")
        if var_i > var_v:
            better += (f", its encoder's q(z|x) being wider (mean exp(σ) {var_i:.3g} against {var_v:.3g}): a proposal "
                       "that costs L_1 and pays off when several samples are combined.")
        else:
            better += f" (mean exp(σ) of its encoder's q(z|x): {var_i:.3g} against {var_v:.3g} for the VAE's)."
    out.append(better)
    return " ".join(out)
