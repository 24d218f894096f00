"""Section 3: estimating P(x), the finite Gaussian mixture against the infinite one (a VAE).

Part 1 is 2-D data whose density is known (``data.spiral``): the true density, Gaussian
mixtures of several sizes and a VAE with a 1-D latent are drawn as heat maps on one grid and
scored on the same held-out points, with the true density's own score as the ceiling.  Part 2
is the same comparison on the image data, with ``vaekit eval``'s numbers (``eval.run``).
"""

from __future__ import annotations

import math
import re
import sys

import torch

from ...data import spiral
from ..context import number, seeded_number, table
from ..plan import IMAGE_COMPONENTS, QUICK_SPIRAL_RESTARTS, SPIRAL_COMPONENTS, SPIRAL_RESTARTS, restart_name
from . import mixture_sweep as sweep

NUMBER = 3
ID = "mixture"
TITLE = "Estimating P(x): the finite mixture and the infinite one"

SPIRAL_K = 64           # importance samples per point for the VAE's log p(x) (grid and test points); with a
SPIRAL_K_CHECK = 16     # 1-D code this is plenty, and k = 16 on the test points shows it (the estimate's change)
GRID = 80               # heat-map cells per side over the unit square
DRAWS = 100_000         # draws from the VAE's P(x) for its histogram
CURVE_POINTS = 200      # prior quantiles of the VAE's 1-D code at which its decoded mean is drawn and measured
IMAGE_K = 500           # importance samples per image for the Gaussian VAE on the 8×8 digits
IMAGE_K_LARGE = 100     # ... on MNIST-sized data (10,000 test images of 784 pixels)
NOISE = 2.0             # "beyond noise": more than this many standard errors (of a paired difference)

CLAIM = (
    "The lecture estimates P(x) with a Gaussian mixture: P(x) = Σ_m P(m) P(x|m), M Gaussians, each with its "
    "own mean μ and covariance Σ, weighted by P(m). A VAE is the same model with infinitely many components: "
    "the code z is drawn from a normal distribution N(0, I) instead of picking one of M, and a network maps "
    "each z to the mean and variance of its Gaussian, P(x) = ∫ P(z) P(x|z) dz. So a VAE with a small code "
    "should fit data that a finite mixture needs many components for; and no model can score better, on "
    "average over held-out data, than the data's true density."
)

METHOD = (
    f"Part 1 uses 2-D data whose density vaekit knows: points along a spiral of {spiral.TURNS:g} turns in the unit "
    f"square, blurred by a Gaussian of standard deviation σ = {spiral.NOISE_STD:g} (vaekit.data.spiral; its density "
    "is an integral along the spiral, computed by Gauss–Legendre quadrature to about 1e-10 nats, a tested error). Gaussian mixtures with "
    f"M = {', '.join(map(str, SPIRAL_COMPONENTS))} full-covariance components are fitted by EM, and a VAE with a "
    "1-D latent and a Gaussian decoder (mean and variance from an MLP of 64-64 units) by the ELBO (its KL term "
    f"ramped up over the first 10 epochs), on the same {spiral.SPLIT_SIZES['train']:,} training points. The VAE "
    f"is trained from {SPIRAL_RESTARTS} random starts ({QUICK_SPIRAL_RESTARTS} with --quick) for each seed, and "
    "the start with the best validation log P(x) is kept (the test points never choose); the first start alone "
    "is reported too, as what a single random start gives. The "
    "mixtures' log P(x) is exact; the VAE's is the importance-sampled estimate with "
    f"k = {SPIRAL_K} samples from q(z|x) (its expectation is a lower bound, rising to log P(x) with k; with a 1-D "
    f"code a few dozen samples suffice, and the estimate at k = {SPIRAL_K_CHECK} is reported beside it to show how "
    "much it still moves).\n\n"
    f"Every density is drawn on one grid of {GRID}×{GRID} cells over the unit square, as a density per unit area "
    "on one colour scale: the truth, the mixture with the best validation log-likelihood, the VAE's "
    f"importance-sampled density, and a histogram of {DRAWS:,} draws from the VAE (z ~ N(0, 1), then "
    f"x ~ P(x|z), not just the decoded mean). Each model is scored on the {spiral.SPLIT_SIZES['test']:,} held-out "
    "test points in nats per example, beside the true density's own score: the ceiling, since the mean of "
    "log q(x) − log p(x) over x ~ p is −KL(p‖q) ≤ 0. That difference is also measured point by point, so its "
    "standard error (of a paired difference) is small enough to tell a model that truly reaches the ceiling from "
    "noise. Whether the VAE's Gaussians run along the spiral is measured too: its decoded means μ(z) at "
    f"{CURVE_POINTS} quantiles of its prior form a curve, and the mean distance from the spiral (uniform in t, as "
    "the data) to the nearest of them is set beside the noise σ.\n\n"
    + sweep.METHOD +
    "Part 3 repeats the comparison on the image data with what `vaekit eval` reports on the test split: "
    f"diagonal-covariance mixtures with M = {', '.join(map(str, IMAGE_COMPONENTS))} against a VAE with a "
    "Gaussian decoder, both densities of the same dequantised pixels y = (pixel + u)/256, in nats per image and "
    f"in bits/dim (8-bit convention). The VAE's log P(x) uses k = {IMAGE_K} importance samples on the 8×8 digits "
    f"(k = {IMAGE_K_LARGE} on MNIST-sized data, to keep the time bounded), all test images."
)


def run(ctx):
    from ...data import load
    from ...eval.likelihood import log_px
    from ...eval.grid import (gaussian_draws, grid_mass, histogram_density, mean_and_se, mean_curve, nearest_distance,
                              on_grid, paired_gap, square_grid)
    from ...viz.density import Line, density_maps_png, loglik_vs_components_png

    section = ctx.start(sys.modules[__name__])
    dev = ctx.device
    gmms = {m: ctx.train(f"spiral-gmm-{m}").model for m in SPIRAL_COMPONENTS}

    with torch.no_grad():
        test = load("spiral", "test").model_input("gaussian", device=dev)        # (N, 1, 1, 2)
        val = load("spiral", "val").model_input("gaussian", device=dev)
        grid = square_grid(GRID, device=dev)
        true_lp = spiral.log_density(test).double()
        on_spiral = spiral.curve(torch.linspace(0, 1, 2001, dtype=torch.float64))

        def vae_log_prob(model, points, k=SPIRAL_K, generator=None):   # points (B, 2) -> (B,), nats
            # What VAE.log_prob computes, in blocks of 16,384 decoded points rather than 4,096: a 2-D point is
            # tiny, and fewer, larger tensor operations are faster here (and much faster on a busy CPU).
            return log_px(model, points.reshape(-1, 1, 1, 2), k=k, batch_size=16384 // k,
                          generator=generator or ctx.generator(31), max_rows=16384)

        # The 1-D-latent VAE: for each seed, every random restart scored on the validation split, the best
        # one kept (never chosen on test); restart 0 is what a single random start gives.
        restarts = range(ctx.plan.spiral_restarts)

        def restart_scores(s):
            """Seed s: every restart's validation score, the pick's and the single start's test scores and
            the pick's decoded curve (measured once per report folder: ``ctx.remember``)."""
            models = [ctx.train(restart_name(r), s).model for r in restarts]
            vals = [vae_log_prob(m, val, generator=ctx.generator(34)).double().mean().item() for m in models]
            pick = max(restarts, key=vals.__getitem__)
            return {"pick": pick, "vals": vals, "lp": vae_log_prob(models[pick], test).double(),
                    "single_lp": vae_log_prob(models[0], test).double(),
                    "curve": mean_curve(models[pick], CURVE_POINTS).reshape(-1, 2).cpu()}

        per_seed = []
        for s in ctx.seeds:
            r = ctx.remember("spiral-restarts", [(restart_name(i), s) for i in restarts], lambda: restart_scores(s),
                             k=SPIRAL_K, curve=CURVE_POINTS)
            r.update(coverage=nearest_distance(on_spiral, r["curve"].cpu()).mean().item(),
                     gap=paired_gap(r["lp"], true_lp), single_gap=paired_gap(r["single_lp"], true_lp))
            per_seed.append(r)
        pick = per_seed[0]["pick"]
        vae = ctx.train(restart_name(pick)).model

        # Held-out scores, nats per example (test), and the validation scores that pick the best mixture.
        both = {m: ctx.remember("spiral-gmm", [(f"spiral-gmm-{m}", 0)],
                                lambda g=g: g.log_prob(torch.cat([test, val])).double())
                for m, g in gmms.items()}                                           # one pass each
        scores = {m: lp[:len(test)] for m, lp in both.items()}
        val_scores = {m: lp[len(test):].mean().item() for m, lp in both.items()}
        best = max(val_scores, key=val_scores.get)
        vae_lp = per_seed[0]["lp"]

        def maps():
            """The VAE's k-check, and the four heat maps: density per unit area on one grid."""
            draws = gaussian_draws(vae, DRAWS, generator=ctx.generator(32)).reshape(-1, 2)
            return {"check": vae_log_prob(vae, test, SPIRAL_K_CHECK, ctx.generator(33)).double(),
                    "true": on_grid(lambda p: spiral.log_density(p), grid),
                    "gmm": on_grid(lambda p: gmms[best].log_prob(p), grid),
                    "vae": on_grid(lambda p: vae_log_prob(vae, p, generator=ctx.generator(31)), grid),
                    "hist": histogram_density(draws, grid)}

        drawn = ctx.remember("spiral-maps", [(restart_name(pick), 0), (f"spiral-gmm-{best}", 0)], maps,
                             grid=GRID, draws=DRAWS, k=SPIRAL_K, check=SPIRAL_K_CHECK)
        vae_lp_check, true_map, gmm_map, vae_map, hist = (drawn[k] for k in ("check", "true", "gmm", "vae", "hist"))

        # Whether the VAE's Gaussians run along the spiral: its decoded means μ(z) along the 1-D code, and
        # the distance from each point of the spiral (uniform in t, as the data) to the nearest of them.
        vae_curve = per_seed[0]["curve"].cpu()

    n = len(test)
    true_ll, true_se = mean_and_se(true_lp)
    number(section, "test_n", n, "points", "held-out (test) points scored")
    number(section, "true_ll", true_ll, "nats per example", "true density: held-out mean log p(x) (the ceiling)")
    number(section, "true_se", true_se, "nats per example", "true density: standard error of that mean")
    for m in SPIRAL_COMPONENTS:
        ll, se = mean_and_se(scores[m])
        gap, gap_se = paired_gap(scores[m], true_lp)
        number(section, f"gmm{m}_ll", ll, "nats per example", f"GMM, M = {m}: held-out mean log P(x) (exact)")
        number(section, f"gmm{m}_se", se, "nats per example", f"GMM, M = {m}: standard error of that mean")
        number(section, f"gmm{m}_gap", gap, "nats per example", f"GMM, M = {m}: mean of log P(x) − log p(x) "
               "over the test points (≤ 0 in expectation)")
        number(section, f"gmm{m}_gap_se", gap_se, "nats per example", f"GMM, M = {m}: standard error of that "
               "paired difference")
        number(section, f"gmm{m}_val_ll", val_scores[m], "nats per example",
               f"GMM, M = {m}: validation mean log P(x) (picks the best mixture)")
    vae_ll, vae_se = mean_and_se(vae_lp)
    vae_gap, vae_gap_se = per_seed[0]["gap"]
    number(section, "vae_k", SPIRAL_K, "samples", "importance samples per point for the VAE's log P(x)")
    number(section, "vae_restarts", len(restarts), "random starts", "VAE: random restarts per seed, the best "
           "on the validation split kept")
    seeded_number(section, "vae_ll", [mean_and_se(r["lp"])[0] for r in per_seed], "nats per example",
                  f"VAE (1-D latent), best of {len(restarts)} restarts on validation: held-out mean log P(x), "
                  f"IS k = {SPIRAL_K}")
    seeded_number(section, "vae_single_ll", [mean_and_se(r["single_lp"])[0] for r in per_seed], "nats per example",
                  "VAE (1-D latent), a single random start: held-out mean log P(x)")
    seeded_number(section, "vae_single_gap", [r["single_gap"][0] for r in per_seed], "nats per example",
                  "VAE, a single random start: mean of log P(x) − log p(x) over the test points")
    seeded_number(section, "vae_pick", [r["pick"] for r in per_seed], "restart", "the restart the validation "
                  "split picked (0 = the single start)")
    seeded_number(section, "vae_val_spread", [max(r["vals"]) - min(r["vals"]) for r in per_seed], "nats per example",
                  "VAE: best minus worst restart's validation log P(x)")
    number(section, "vae_ll_check", vae_lp_check.mean().item(), "nats per example",
           f"VAE: the same with k = {SPIRAL_K_CHECK} (how far the estimate still moves with k)")
    number(section, "vae_k_check", SPIRAL_K_CHECK, "samples", "the smaller k of that check")
    number(section, "vae_se", vae_se, "nats per example", "VAE: standard error of that mean (first seed)")
    seeded_number(section, "vae_gap", [r["gap"][0] for r in per_seed], "nats per example",
                  "VAE: mean of log P(x) − log p(x) over the test points (≤ 0 in expectation)")
    number(section, "vae_gap_se", vae_gap_se, "nats per example", "VAE: standard error of that paired difference "
           "(first seed)")
    number(section, "best_gmm", best, "components", "the mixture with the best validation log-likelihood")
    number(section, "mass_true", grid_mass(true_map, grid), "probability",
           "true density's mass on the grid (midpoint rule; ≈ 1)")
    number(section, "mass_gmm", grid_mass(gmm_map, grid), "probability", "best GMM's mass on the grid")
    number(section, "mass_vae", grid_mass(vae_map, grid), "probability",
           f"VAE's mass on the grid (IS density, k = {SPIRAL_K}; an unbiased estimate, ≤ 1 up to noise)")
    number(section, "draws_inside", (hist.sum() * grid.cell_area).item(), "fraction",
           "fraction of the VAE's draws inside the unit square")

    number(section, "noise_std", spiral.NOISE_STD, "unit-square lengths",
           "the data's noise: standard deviation of the Gaussian blur about the spiral")
    seeded_number(section, "vae_coverage", [r["coverage"] for r in per_seed], "unit-square lengths",
                  f"VAE: mean distance from the spiral (uniform in t) to the nearest of its decoded means μ(z) at "
                  f"{CURVE_POINTS} prior quantiles of z")

    vmax = true_map.exp().max().item()
    curve = spiral.curve(torch.linspace(0, 1, 400, dtype=torch.float64))
    maps = [("true density p(x)", true_map.exp()),
            (f"best GMM, M = {best} (exact)", gmm_map.exp()),
            (f"VAE, importance sampled (k = {SPIRAL_K})", vae_map.exp(), ("decoded mean μ(z)", vae_curve)),
            (f"VAE: histogram of {DRAWS:,} draws", hist, ("decoded mean μ(z)", vae_curve))]
    ctx.figure(section, "mixture-heatmaps",
               density_maps_png(maps, grid.extent, vmax, "density per unit area (linear scale)",
                                title="The spiral's density and two models of it", curve=curve),
               caption=(f"Densities per unit area on a grid of {GRID}×{GRID} cells over the unit square, one linear colour "
                        f"scale from 0 to the true density's maximum on the grid ({vmax:.1f}); higher values are "
                        "clipped to the top colour. The dotted line is the spiral the data follow; the cyan line, "
                        "the VAE's decoded mean μ(z) as z runs through its prior. Top: the true "
                        f"density and the Gaussian mixture with the best validation score (M = {best}). Bottom: "
                        f"the VAE's density, log P(x) importance sampled with k = {SPIRAL_K} at each cell centre, "
                        f"and a histogram of {DRAWS:,} draws z ~ N(0, 1), x ~ P(x|z) from it."),
               alt=(f"Four heat maps of the unit square: the true spiral density, the best mixture (M = {best}), "
                    "the VAE's importance-sampled density and a histogram of the VAE's draws."),
               width=820)

    lines = [Line(f"VAE, 1-D latent (IS k = {SPIRAL_K})", vae_ll, vae_se, "tab:orange"),
             Line("true density (the ceiling)", true_ll, true_se, "black", ":")]
    ctx.figure(section, "mixture-loglik",
               loglik_vs_components_png(list(SPIRAL_COMPONENTS),
                                        [section.number_of(f"gmm{m}_ll") for m in SPIRAL_COMPONENTS],
                                        [section.number_of(f"gmm{m}_se") for m in SPIRAL_COMPONENTS], lines,
                                        title=f"Held-out log-likelihood on the spiral ({n:,} test points)"),
               caption=("Held-out mean log-likelihood in nats per point against the number of mixture components "
                        "(error bars and bands: ±2 standard errors of each mean). The dotted line is the true "
                        "density's own score, which no model beats on average."),
               alt="Mixture log-likelihood rising with the number of components, with the VAE's and the true "
                   "density's scores as horizontal lines.",
               width=600)

    table(section, f"Held-out log-likelihood on the spiral, nats per point ({n:,} test points)",
          ["model", "log P(x), nats per point", "± s.e.", "minus the true density's (paired)", "± s.e."],
          [["true density (ceiling)", true_ll, true_se, 0.0, None]]
          + [[f"GMM, M = {m}", section.number_of(f"gmm{m}_ll"), section.number_of(f"gmm{m}_se"),
              section.number_of(f"gmm{m}_gap"), section.number_of(f"gmm{m}_gap_se")] for m in SPIRAL_COMPONENTS]
          + [[f"VAE, 1-D latent (IS k = {SPIRAL_K})", vae_ll, vae_se, vae_gap, vae_gap_se]])

    sweep.run_part(ctx, section)
    _images(ctx, section)
    ctx.explore(section, "the image VAE with a Gaussian decoder", "image-gauss-vae")
    section.conclusion = conclusion(section.numbers)
    return section


def _images(ctx, section) -> None:
    """Part 2: ``vaekit eval`` on the test split for each image mixture and the Gaussian VAE."""
    from ...eval.run import evaluate_run

    k = IMAGE_K_LARGE if ctx.plan.large_images else IMAGE_K
    rows = []
    report = None
    for m in IMAGE_COMPONENTS:
        name = f"image-gmm-{m}"
        report = ctx.remember("image-eval", [(name, 0)], lambda name=name: evaluate_run(
            ctx.train(name).path, split="test", device=str(ctx.device), seed=ctx.plan.seed))
        number(section, f"image_gmm{m}_ll", report["log_px"], "nats per image",
               f"image GMM, M = {m}: test mean log P(x) (exact)")
        number(section, f"image_gmm{m}_bpd", report["bits_per_dim"], "bits/dim", f"image GMM, M = {m}: bits/dim")
        rows.append([f"GMM, M = {m} (diagonal)", report["log_px"], report["log_px_se"], report["bits_per_dim"]])
    run = ctx.train("image-gauss-vae")
    vae = ctx.remember("image-eval", [("image-gauss-vae", 0)], lambda: evaluate_run(
        run.path, split="test", k=k, device=str(ctx.device), seed=ctx.plan.seed), k=k)
    dims = math.prod(run.model.config.image_shape)
    number(section, "image_latent", run.model.latent_dim, "dimensions", "latent dimensions of the image VAE")
    number(section, "image_k", k, "samples", "importance samples per image for the image VAE's log P(x)")
    number(section, "image_n", vae["n"], "images", "test images scored")
    number(section, "image_dims", dims, "pixels", "dimensions D of an image")
    number(section, "image_vae_ll", vae["log_px"], "nats per image", f"Gaussian VAE: test mean log P(x), IS k = {k}")
    number(section, "image_vae_se", vae["log_px_se"], "nats per image", "Gaussian VAE: standard error of that mean")
    number(section, "image_vae_bpd", vae["bits_per_dim"], "bits/dim", "Gaussian VAE: bits/dim")
    number(section, "image_vae_elbo", vae["elbo"], "nats per image", "Gaussian VAE: test mean ELBO L_b")
    rows.append([f"VAE, Gaussian decoder (IS k = {k})", vae["log_px"], vae["log_px_se"], vae["bits_per_dim"]])
    table(section, (f"Test log-likelihood on the image data ({ctx.plan.data}, {vae['n']:,} test images, D = {dims}), "
                    "from vaekit eval: densities of the dequantised pixels; "
                    "bits/dim = −(log P(x) − D ln 256)/(D ln 2)"),
          ["model", "log P(x), nats per image", "± s.e.", "bits/dim"], rows)


def _f(x: float) -> str:
    return f"{x:.2f}"


def _side(gap: float) -> str:
    return "below" if gap <= 0 else "above"


def conclusion(numbers: dict) -> str:
    """The closing sentences, from the measured numbers (``Section.numbers``: {key: {value, unit, label}})."""
    v = {key: entry["value"] for key, entry in numbers.items()}
    ms = sorted(int(g.group(1)) for g in (re.fullmatch(r"gmm(\d+)_ll", key) for key in v) if g)
    gmm = {m: v[f"gmm{m}_ll"] for m in ms}
    k, vae = v["vae_k"], v["vae_ll"]
    listed = ", ".join(f"{_f(gmm[m])} (M = {m})" for m in ms)
    check = v.get("vae_ll_check")
    moved = "" if check is None else f"; with k = {v['vae_k_check']}, {check:.3f}"
    out = [f"On the held-out spiral points the mixtures score {listed} nats per point, the VAE with a 1-D latent "
           f"{_f(vae)} (importance sampled with k = {k}: {vae:.3f}{moved})."]

    reached = [m for m in ms if gmm[m] >= vae]    # the mixtures at least as good as the VAE
    if not reached:
        out.append(f"The VAE beats every mixture tried, even M = {ms[-1]} (by {_f(vae - gmm[ms[-1]])} nats): "
                   "its one continuous code does what more components than these would take.")
    elif reached[0] == ms[0]:
        out.append(f"Unexpectedly, even the smallest mixture, M = {ms[0]}, scores at least as well as the VAE "
                   f"({_f(gmm[ms[0]])} vs {_f(vae)}): the VAE has not learned the spiral (too little training, "
                   "or a code it does not use).")
    else:
        m_match = reached[0]                                  # the fewest components that reach the VAE
        m_under = max(m for m in ms if m < m_match)           # every smaller mixture is below it
        out.append(f"The VAE lies between the mixtures with M = {m_under} ({_f(gmm[m_under])}) and "
                   f"M = {m_match} ({_f(gmm[m_match])}): a finite mixture needs about {m_match} components to "
                   "match one infinite mixture with a 1-D code.")

    if "vae_coverage" in v:
        dist, noise = v["vae_coverage"], v["noise_std"]
        if dist > 2 * noise:
            out.append(f"The VAE's decoded means μ(z) do not run along the spiral: a point of the spiral is on "
                       f"average {dist:.3f} from the nearest of them, more than twice the data's noise "
                       f"σ = {noise:.2f}. Its one-dimensional code has not unrolled the spiral; the decoder's "
                       "variance covers the arms it misses, which costs likelihood.")
        else:
            out.append(f"The VAE's decoded means μ(z) run along the spiral: a point of the spiral is on average "
                       f"{dist:.3f} from the nearest of them (noise σ = {noise:.2f}), one Gaussian for each point "
                       "of the curve.")

    if "vae_single_ll" in v:
        out.append(f"That is the best of {v['vae_restarts']} random starts per seed, picked on the validation points; "
                   f"a single random start scores {_f(v['vae_single_ll'])} (the starts' validation scores differ by "
                   f"{v['vae_val_spread']:.3f} nats at most, on average over the seeds).")
    ceiling, se = v["true_ll"], v["true_se"]
    models = [(f"the mixture with M = {m}", v[f"gmm{m}_gap"], v[f"gmm{m}_gap_se"]) for m in ms]
    models.append(("the VAE", v["vae_gap"], v["vae_gap_se"]))
    best_name, best_gap, best_gap_se = max(models, key=lambda t: t[1])
    text = (f"The true density scores {_f(ceiling)} ± {_f(se)} nats per point, the ceiling; the closest model, "
            f"{best_name}, is {abs(best_gap):.3f} nats {_side(best_gap)} it (paired standard error {best_gap_se:.3f})")
    if best_name != "the VAE":
        text += f" and the VAE {abs(v['vae_gap']):.3f} nats {_side(v['vae_gap'])} it"
    out.append(text + ".")
    over = [(name, gap, gse) for name, gap, gse in models if gap > NOISE * gse]
    if over:
        text = "; ".join(f"{name} scores above the true density by {gap:.3f} nats, {gap / gse:.1f} standard errors"
                         for name, gap, gse in over)
        out.append(text[0].upper() + text[1:] + ": no model can beat the true density on average, so this is a bug "
                   "(in the model's or the true density's log-likelihood) or an unlucky test set.")
    else:
        out.append(f"No model exceeds the ceiling beyond noise (more than {NOISE:g} paired standard errors), as it "
                   "must be.")
    mass = v.get("mass_vae")
    if mass is not None and mass > 1.05:
        out.append(f"The VAE's importance-sampled density integrates to {mass:.2f} over the square, more than 1: "
                   "a sign its estimate is biased upwards somewhere.")

    out.extend(sweep.conclusion(numbers))
    if "image_vae_ll" in v:
        ims = sorted(int(g.group(1)) for g in (re.fullmatch(r"image_gmm(\d+)_ll", key) for key in v) if g)
        ivae, ibpd = v["image_vae_ll"], v["image_vae_bpd"]
        best_m = max(ims, key=lambda m: v[f"image_gmm{m}_ll"])
        gll, gbpd = v[f"image_gmm{best_m}_ll"], v[f"image_gmm{best_m}_bpd"]
        text = (f"On the image data (D = {v['image_dims']}), the Gaussian VAE scores {_f(ivae)} nats per image "
                f"({ibpd:.3f} bits/dim, k = {v['image_k']}) and the best diagonal mixture, M = {best_m}, {_f(gll)} "
                f"({gbpd:.3f} bits/dim): ")
        if ivae > gll:
            text += (f"the VAE is better by {_f(ivae - gll)} nats per image ({gbpd - ibpd:.3f} bits/dim), with a "
                     f"code of {v['image_latent']} dimensions in place of {best_m} components.")
        else:
            text += (f"unexpectedly, the mixture is better by {_f(gll - ivae)} nats per image "
                     f"({ibpd - gbpd:.3f} bits/dim); this VAE, whose log P(x) is an importance-sampled lower-bound "
                     "estimate, does not beat a mixture of this size here.")
        if best_m != ims[-1]:
            text += (f" More components do not help: M = {ims[-1]} scores {_f(v[f'image_gmm{ims[-1]}_ll'])} on the "
                     "test images, the mixture overfitting its training images.")
        out.append(text)
    return " ".join(out)
