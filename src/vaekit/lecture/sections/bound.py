"""Section 4: maximum likelihood and the lower bound L_b, its gap, and a case where the gap is known."""

from __future__ import annotations

import sys

import torch

from ...data import linear_gaussian, load
from ...eval.posterior import bounds_by_k, encode_all, mean_se, refine_q, variance_stats
from ...i18n import N_, _, sentences
from ...viz.bound import bounds_vs_k_png, linear_bound_png, training_bound_png
from ..context import number, seeded_number, table

NUMBER = 4
ID = "bound"
TITLE = N_("Maximum likelihood and the lower bound")
CLAIM = N_(
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


def method() -> str:
    """How the experiment tests the claim (paragraphs)."""
    return "\n\n".join([
        _("(a) While the image VAE trains (β = 1), every epoch scores the validation images: L_b (one noisy code "
          "per image) and log p(x) by importance sampling with the number of samples the plan sets "
          "(log (1/k) Σ p(x, z_i)/q(z_i|x), z_i ~ q(z|x)); their difference estimates the gap KL(q(z|x) ‖ P(z|x))."),
        _("(b) The known answer: a linear VAE (q(z|x) = N(A x + c, diag exp(σ)), P(x|z) = N(W z + b, s² I)) "
          "trained on 16-dimensional data drawn from a linear-Gaussian model with a 2-D latent (probabilistic "
          "PCA). The learned model's log p(x) is exact (x ~ N(b, W Wᵀ + s² I)), and so is the data model's, the "
          "ceiling no model beats on average. The true posterior of a linear-Gaussian model is Gaussian, so q "
          "can match it and the gap can close. Per epoch on the validation points: L_b, the importance-sampled "
          "estimate and the exact value; at the end on the test points (the first {max_test}), with "
          "{linear_k} samples per point (L_b averaged over them).").format(max_test=MAX_TEST, linear_k=LINEAR_K),
        _("(c) Does a better q shrink the gap? First the lecture's own step: keep the decoder P(x|z) fixed and "
          "fit q(z|x) to each test image ({steps} Adam steps on that image's m and σ, from the encoder's, "
          "maximising its L_b with {samples} noisy codes a step); L_b under the fitted q is averaged over "
          "{codes} codes. Then a model trained for a better proposal: the same network trained with the "
          "IWAE bound L_5 (Burda et al. 2016) against the image VAE. Both on the first {max_test} test images "
          "(binarised or dequantised as trained): "
          "L_k = E[log (1/k) Σ_{{i≤k}} p(x, z_i)/q(z_i|x)] for k from 1 (L_1 = L_b) to {k_max}, whose value at "
          "k = {k_max} is the log p(x) estimate. The {k_max} weights per image are cut into groups of k, and "
          "the group values averaged, so every k uses the same draws. Standard errors are over images; "
          "\"within noise\" means within {noise:g} standard errors of the paired difference.").format(
            steps=REFINE_STEPS, samples=REFINE_SAMPLES, codes=REFINED_CODES, max_test=MAX_TEST, k_max=K_MAX,
            noise=NOISE)])


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    _training(ctx, section)
    _linear(ctx, section)
    _better_q(ctx, section)
    ctx.explore(section, _("the image VAE trained on L_b and the one trained on the IWAE bound"), "image-vae",
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
    nats = _("nats per image")
    number(section, "train_log_px", log_px[-1], nats, _("final val log p(x), IS with k = {k}").format(k=k))
    number(section, "train_elbo", elbo[-1], nats, _("final val L_b"))
    gaps = []
    for seed in ctx.seeds:        # the final gap of every seed's run; the curves are the first seed's
        lp, ne = _series(ctx.train("image-vae", seed).history, "val_log_px", "val_loss")[1:]
        gaps.append(lp[-1] + ne[-1])
    seeded_number(section, "train_gap", gaps, nats, _("final val gap log p(x) − L_b"))
    number(section, "train_gap_first", log_px[0] - elbo[0], nats,
           _("val gap log p(x) − L_b at epoch {epoch}").format(epoch=epochs[0]))
    number(section, "train_gap_negative_epochs", sum(a < b for a, b in zip(log_px, elbo)), _("epochs"),
           _("epochs where the estimate of log p(x) fell below L_b (noise)"))
    number(section, "train_epochs", len(epochs), _("epochs"), _("epochs scored"))
    ctx.figure(section, "bound-training", training_bound_png(epochs, log_px, elbo),
               _("The image VAE during training, on the validation images: log p(x) (importance sampled, "
                 "k = {k}) and L_b above, their gap, which estimates KL(q(z|x) ‖ P(z|x)), below. Nats per "
                 "image.").format(k=k),
               _("Two panels over epochs: log p(x) and L_b above; below, the gap between them."),
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
               _("The linear VAE on linear-Gaussian data, validation points, per epoch: L_b, the importance-sampled "
                 "log p(x) (k = {k}), the learned model's exact log p(x), and the data model's exact "
                 "log p(x) (dashed, the ceiling); below, the gaps. Nats per point.").format(k=k_train),
               _("Three curves over epochs (L_b, the IS estimate, the exact log p(x)) beneath a dashed horizontal "
                 "line, the data model's log p(x); below, the gaps exact − L_b and exact − IS."), width=650)
    test = load("linear-gaussian", "test")
    x = test.model_input(model.likelihood, device=ctx.device)[:MAX_TEST]
    with torch.no_grad():
        bounds = bounds_by_k(model, x, (1, LINEAR_K), generator=ctx.generator(41))
        exact_test = model.exact_log_prob(x).double()
        true_test = linear_gaussian.exact_log_prob(x).double()
    values = {"elbo": bounds[1], "is": bounds[LINEAR_K], "exact": exact_test, "true": true_test}
    labels = {"elbo": _("L_b (mean over {k} codes per point)").format(k=LINEAR_K),
              "is": _("log p(x), IS with k = {k}").format(k=LINEAR_K),
              "exact": _("exact log p(x) of the learned model"), "true": _("exact log p(x) of the data model (ceiling)")}
    nats = _("nats per point")
    for key, v in values.items():
        mean, se = mean_se(v)
        number(section, f"linear_{key}", mean, nats, _("test: {label}").format(label=labels[key]))
        number(section, f"linear_{key}_se", se, nats, _("test: standard error of {label}").format(label=labels[key]))
    for key, (hi, lo) in {"gap": ("exact", "elbo"), "exact_minus_is": ("exact", "is"),
                          "is_minus_elbo": ("is", "elbo"), "true_minus_exact": ("true", "exact")}.items():
        mean, se = mean_se(values[hi] - values[lo])
        number(section, f"linear_{key}", mean, nats, _("test: {hi} − {lo}").format(hi=labels[hi], lo=labels[lo]))
        number(section, f"linear_{key}_se", se, nats, _("test: standard error of that difference (first seed)"))
    gaps = [section.number_of("linear_gap")]
    with torch.no_grad():
        for seed in list(ctx.seeds)[1:]:       # the gap exact − L_b of every further seed's run
            other = ctx.train("linear-vae", seed).model
            lb = bounds_by_k(other, x, (1,), generator=ctx.generator(41))[1]
            gaps.append((other.exact_log_prob(x).double() - lb).mean().item())
    seeded_number(section, "linear_gap", gaps, nats, _("test: {hi} − {lo}").format(hi=labels["exact"],
                                                                                     lo=labels["elbo"]))
    number(section, "linear_val_gap", exact[-1] - elbo[-1], nats,
           _("final val gap: exact log p(x) − L_b (one code per point)"))
    number(section, "linear_n", len(x), _("points"), _("test points scored"))


def _better_q(ctx, section) -> None:
    """(c) L_k against k on the test images for the image VAE and the IWAE-trained model, and L_b
    under a q fitted to each image with the decoder fixed."""
    models = {"vae": (_("VAE (trained on L_1 = L_b)"), ctx.train("image-vae").model),
              "iwae": (_("IWAE (trained on L_5)"), ctx.train("image-iwae").model)}
    test = load(ctx.plan.data, "test", data_dir=ctx.plan.data_dir)
    n = min(len(test), MAX_TEST)
    curves = {}
    nats = _("nats per image")
    with torch.no_grad():
        for key, (label, model) in models.items():
            x = test.model_input(model.likelihood, device=ctx.device)[:n]
            bounds = bounds_by_k(model, x, KS, generator=ctx.generator(42))
            q = refine_q(model, x, steps=REFINE_STEPS, samples=REFINE_SAMPLES, generator=ctx.generator(43))
            with_q = bounds_by_k(model, x, (1, REFINED_CODES), generator=ctx.generator(44), q=q)
            refined = with_q[1]
            stats = [mean_se(bounds[k]) for k in KS]
            gaps = [mean_se(bounds[K_MAX] - bounds[k]) for k in KS]
            curves[label] = {"bounds": [m for m, _se in stats], "gaps": [g for g, _se in gaps],
                             "gap_se": [se for _g, se in gaps],
                             "fitted": (mean_se(refined)[0], mean_se(bounds[K_MAX] - refined)[0])}
            for k in (1, 5, 50, K_MAX):
                text = (_("test: L_{k} of the {model} (the log p(x) estimate)") if k == K_MAX else
                        _("test: L_{k} of the {model}"))
                number(section, f"{key}_L{k}", stats[KS.index(k)][0], nats, text.format(k=k, model=label))
            number(section, f"{key}_L1_refined", mean_se(refined)[0], nats,
                   _("test: L_b of the {model} with q fitted to each image, decoder fixed").format(model=label))
            number(section, f"{key}_logpx_refined", mean_se(with_q[REFINED_CODES])[0], nats,
                   _("test: log p(x) of the {model}, IS with k = {k} from the fitted q").format(
                       model=label, k=REFINED_CODES))
            for name, lower in (("gap1", bounds[1]), ("gap5", bounds[5]), ("gap1_refined", refined)):
                gap, se = mean_se(bounds[K_MAX] - lower)
                what = {"gap1": "L_b", "gap5": "L_5", "gap1_refined": _("L_b with the fitted q")}[name]
                number(section, f"{key}_{name}", gap, nats,
                       _("test: log p(x) − {what}, {model}").format(what=what, model=label))
                number(section, f"{key}_{name}_se", se, nats, _("test: its standard error"))
            number(section, f"{key}_mean_var", variance_stats(*encode_all(model, x))["mean_exp_sigma"],
                   _("variance"), _("test: mean noise variance exp(σ) of the encoder's q(z|x), {model}").format(
                       model=label))
    number(section, "k_max", K_MAX, _("samples"), _("importance samples per image for log p(x)"))
    number(section, "n_test", n, _("images"), _("test images scored in (c)"))
    ctx.figure(section, "bound-vs-k", bounds_vs_k_png(KS, curves),
               _("Left: L_k on {n} test images ({data}) against k, for the VAE and the IWAE-trained "
                 "model; L_1 is L_b, L_{k_max} the log p(x) estimate; stars: L_b under a q fitted to each image "
                 "with the decoder fixed. Right: the gap log p(x) − L_k, nats per image, ± one standard error of "
                 "the paired difference.").format(n=n, data=ctx.plan.data, k_max=K_MAX),
               _("Left, L_k of two models over a logarithmic k axis, with a star for each at k = 1; right, their "
                 "gaps log p(x) − L_k on logarithmic axes."), width=860)
    v = section.numbers
    fitted = _("L_b, fitted q")
    cols = [_("model"), "L_1 = L_b", fitted, "L_5", "L_50", f"L_{K_MAX} ≈ log p(x)",
            "log p(x) − L_b", f"log p(x) − {fitted}", "log p(x) − L_5"]
    rows = []
    for key, (label, _model) in models.items():
        rows.append([label] + [f"{v[f'{key}_{name}']['value']:.2f}" for name in ("L1", "L1_refined", "L5", "L50",
                                                                                  f"L{K_MAX}")]
                    + [f"{v[f'{key}_{g}']['value']:.2f} ± {v[f'{key}_{g}_se']['value']:.2f}"
                       for g in ("gap1", "gap1_refined", "gap5")])
    table(section, _("The bounds on {n} test images, nats per image (gaps ± one standard error)").format(n=n),
          cols, rows)


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
    head = dict(log_px=v("train_log_px"), elbo=v("train_elbo"))
    if gap >= 0 and below:
        out.append(_("At the end of training the image VAE's log p(x) is {log_px:.2f} nats per image and L_b "
                     "{elbo:.2f}: the bound sits {gap:.2f} nats below, the KL(q(z|x) ‖ P(z|x)) that q leaves "
                     "(it was {gap0:.2f} nats at the first epoch); the estimate fell below L_b in {below} of {epochs} "
                     "epochs, by noise.").format(**head, gap=gap, gap0=gap0, below=below,
                                                 epochs=int(v("train_epochs"))))
    elif gap >= 0:
        out.append(_("At the end of training the image VAE's log p(x) is {log_px:.2f} nats per image and L_b "
                     "{elbo:.2f}: the bound sits {gap:.2f} nats below, the KL(q(z|x) ‖ P(z|x)) that q leaves "
                     "(it was {gap0:.2f} nats at the first epoch), and log p(x) stayed above L_b at every "
                     "epoch.").format(**head, gap=gap, gap0=gap0))
    else:
        out.append(_("At the end of training the image VAE's log p(x) is {log_px:.2f} nats per image and L_b "
                     "{elbo:.2f}: unexpectedly, the estimate of log p(x) ends {gap:.2f} nats below L_b, which only "
                     "noise in the one-code L_b or too few importance samples can explain.").format(**head, gap=-gap))
    # (b) the linear VAE
    lg, lg_se = v("linear_gap"), v("linear_gap_se")
    if -NOISE * lg_se <= lg <= NEAR_ZERO:
        verdict = _("the gap exact − L_b has closed to about zero, {gap:.3f} ± {se:.1g} nats per point (against "
                    "{image_gap:.2f} nats per image for the image VAE), because the true posterior is Gaussian "
                    "and q can match it.").format(gap=lg, se=lg_se, image_gap=v("train_gap"))
    elif lg < 0:
        verdict = _("unexpectedly, L_b lies above the exact log p(x) by {gap:.3f} ± {se:.1g} nats per point, "
                    "which a lower bound cannot do: a bug or an unlucky sample.").format(gap=-lg, se=lg_se)
    else:
        verdict = _("the gap exact − L_b is {gap:.3f} ± {se:.1g} nats per point: unexpectedly, it did not close "
                    "to about zero (below {near_zero} nats) as it can when q is able to match the posterior.").format(
            gap=lg, se=lg_se, near_zero=NEAR_ZERO)
    out.append(_("The linear VAE reaches L_b = {elbo:.3f}, an IS estimate of {is_:.3f} and an "
                 "exact log p(x) of {exact:.3f} nats per point on the test points, against "
                 "{true:.3f} for the data model itself: {verdict}").format(
        elbo=v("linear_elbo"), is_=v("linear_is"), exact=v("linear_exact"), true=v("linear_true"), verdict=verdict))
    checks = {_("exact ≥ IS"): _at_least(numbers, "linear_exact_minus_is"),
              _("IS ≥ L_b"): _at_least(numbers, "linear_is_minus_elbo"),
              _("ceiling ≥ exact"): _at_least(numbers, "linear_true_minus_exact")}
    held = _(", ").join(name for name, ok in checks.items() if ok)
    failed = _(", ").join(name for name, ok in checks.items() if not ok)
    if not failed:
        out.append(_("The order {held} holds within noise.").format(held=held))
    elif held:
        out.append(_("Unexpectedly, {failed} fails beyond noise ({held} holds).").format(failed=failed, held=held))
    else:
        out.append(_("Unexpectedly, {failed} fails beyond noise.").format(failed=failed))
    # (c) a better q: the same decoder with a fitted q, then the IWAE-trained model
    k = int(v("k_max"))
    shrunk = {key: v(f"{key}_gap1_refined") < v(f"{key}_gap1") for key in ("vae", "iwae")}
    moves = _("the VAE's gap log p(x) − L_b goes from {vae:.2f} to {vae_fitted:.2f} nats per "
              "image and the IWAE-trained model's from {iwae:.2f} to {iwae_fitted:.2f}").format(
        vae=v("vae_gap1"), vae_fitted=v("vae_gap1_refined"), iwae=v("iwae_gap1"), iwae_fitted=v("iwae_gap1_refined"))
    stays = _("while log p(x), which does not depend on q, stays put ({vae_fitted:.2f} and "
              "{iwae_fitted:.2f} estimated from the fitted q, against {vae:.2f} and {iwae:.2f})").format(
        vae_fitted=v("vae_logpx_refined"), iwae_fitted=v("iwae_logpx_refined"), vae=v(f"vae_L{k}"),
        iwae=v(f"iwae_L{k}"))
    if all(shrunk.values()):
        out.append(_("A better q shrinks the gap: fitting q(z|x) to each test image with the decoder fixed, {moves}, "
                     "{stays}.").format(moves=moves, stays=stays))
    else:
        out.append(_("Unexpectedly, fitting q(z|x) to each test image with the decoder fixed did not shrink every "
                     "gap: {moves}, {stays}.").format(moves=moves, stays=stays))
    g1v, g1i, g5v, g5i = v("vae_gap1"), v("iwae_gap1"), v("vae_gap5"), v("iwae_gap5")
    lp = dict(k=k, iwae=v(f"iwae_L{k}"), vae=v(f"vae_L{k}"))
    better = (_("Training with the IWAE bound gives a better model rather than a tighter ELBO: with {k} samples its "
                "log p(x) is {iwae:.2f} nats per image against the VAE's {vae:.2f}").format(**lp)
              if v(f"iwae_L{k}") > v(f"vae_L{k}") else
              _("With {k} samples the IWAE-trained model's log p(x) is {iwae:.2f} nats per image, "
                "unexpectedly no better than the VAE's {vae:.2f}").format(**lp))
    # TRANSLATORS: the clauses below continue the sentence above, each after the one before it
    if g5i < g5v:
        better += _("; the bound it was trained for is the tighter one, log p(x) − L_5 = {iwae:.2f} nats against "
                    "{vae:.2f} for the VAE").format(iwae=g5i, vae=g5v)
    else:
        better += _("; even the bound it was trained for is not tighter, log p(x) − L_5 = {iwae:.2f} nats against "
                    "{vae:.2f} for the VAE").format(iwae=g5i, vae=g5v)
    if g1i < g1v:
        better += _(", and so is its plain ELBO, log p(x) − L_b = {iwae:.2f} against {vae:.2f}.").format(
            iwae=g1i, vae=g1v)
    else:
        better += _("; its plain ELBO gap log p(x) − L_b is larger, {iwae:.2f} against {vae:.2f}").format(
            iwae=g1i, vae=g1v)
        var_v, var_i = v("vae_mean_var"), v("iwae_mean_var")
        if var_i > var_v:
            better += _(", its encoder's q(z|x) being wider (mean exp(σ) {iwae:.3g} against {vae:.3g}): a proposal "
                        "that costs L_1 and pays off when several samples are combined.").format(iwae=var_i, vae=var_v)
        else:
            better += _(" (mean exp(σ) of its encoder's q(z|x): {iwae:.3g} against {vae:.3g} for the VAE's).").format(
                iwae=var_i, vae=var_v)
    out.append(better)
    return sentences(out)
