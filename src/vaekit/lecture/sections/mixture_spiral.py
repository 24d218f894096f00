"""Section 3's first part: the spiral, whose density is known, fitted by finite mixtures and by a VAE.

2-D points along a spiral (``data.spiral``): the true density, Gaussian mixtures of SPIRAL_COMPONENTS
sizes (runs ``spiral-gmm-<M>``) and the 1-D-latent VAE trained two ways (``spiral-vae``, the decoder's
std annealed; ``spiral-vae-plain``, the plain ELBO: the lesson), drawn as heat maps on one grid and
scored on the same held-out points, with the true density's own score as the ceiling.  ``method``
gives its paragraphs, ``run_part`` adds its numbers, figures and table to section 3; its sentences,
drawn from those numbers, are ``mixture_spiral_conclusion``'s.
"""

from __future__ import annotations

import torch

from ...data import spiral
from ...i18n import _
from ..context import number, seeded_number, table
from ..plan import QUICK_SPIRAL, SPIRAL_COMPONENTS, SPIRAL_RECIPES

NODES = 4096            # values of the VAE's 1-D code z over which log P(x) = log ∫ P(z) P(x|z) dz is summed
NODES_CHECK = 8192      # twice as many, on the test points: how much the sum still moves
MOVED = 0.001           # nats per point: a move beyond this says the sum has not converged
SPIRAL_K = 64           # importance samples per point of the comparison with vaekit eval's estimate
GRID = 80               # heat-map cells per side over the unit square
DRAWS = 100_000         # draws from the VAE's P(x) for its histogram
CURVE_POINTS = 200      # prior quantiles of the VAE's 1-D code at which its decoded mean is drawn and measured
NOISE = 2.0             # "beyond noise": more than this many standard errors (of a paired difference)
TARGET = 0.05           # "reaches the ceiling": within this many nats per point of the true density's score
PLAIN, ANNEALED = SPIRAL_RECIPES["plain"], SPIRAL_RECIPES["annealed"]


def method() -> list[str]:
    """How part 1 tests the claim (two paragraphs)."""
    return [
        _("Part 1 uses 2-D data whose density vaekit knows: points along a spiral of {turns:g} turns in the unit "
          "square, blurred by a Gaussian of standard deviation σ = {noise:g} (vaekit.data.spiral; its density "
          "is an integral along the spiral, computed by Gauss–Legendre quadrature to about 1e-10 nats, a tested "
          "error). Gaussian mixtures with M = {components} full-covariance components are fitted by EM on the "
          "{n_train:,} training points, and a VAE with a 1-D latent and a Gaussian decoder (mean and variance from an "
          "MLP of 64-64 units) on the same points, from one random start per seed, in two ways. Trained by the plain "
          "ELBO ({plain_epochs} epochs, {quick_epochs} with --quick; its KL term ramped up over the first "
          "{warmup}), its decoded curve settles across the spiral's arms and the decoder's variance covers them, a "
          "local optimum: in vaekit's trials neither the best of 4 random starts, nor longer training, nor a floor "
          "on the decoder's variance, nor the importance-weighted bound alone got it out. What it took: the "
          "importance-weighted bound with k = {iwae_k} samples, and for the first {anneal_epochs} of {epochs} epochs "
          "the decoder's variance replaced by a fixed f² (vaekit train --anneal-std {f0:g},{f1:g} "
          "--anneal-std-epochs {anneal_epochs}; {quick_anneal} of {quick_annealed} with --quick), f falling "
          "geometrically from {f0:g} to {f1:g}: the means cannot "
          "cover a point with a large variance, so they move towards it. Meanwhile the decoder's own variance is "
          "fitted to the residuals at the same codes, and it takes over for the last {last} epochs. The page "
          "shows both: the plain ELBO is what a single random start gives. The mixtures' log P(x) is exact, and so is the "
          "VAE's: with a 1-D code the integral P(x) = ∫ P(z) P(x|z) dz is summed directly over {nodes:,} equally "
          "spaced values of z in [−8, 8], the infinite mixture as a very fine finite one (vaekit.objectives."
          "quadrature; {nodes_check:,} values are reported beside it to show that the sum has converged). The "
          "importance-sampled estimate that vaekit eval reports for any VAE, with k = {k} samples from q(z|x), is "
          "set beside it: its expectation is a lower bound.").format(
            turns=spiral.TURNS, noise=spiral.NOISE_STD, components=", ".join(map(str, SPIRAL_COMPONENTS)),
            n_train=spiral.SPLIT_SIZES["train"], plain_epochs=PLAIN["epochs"],
            quick_epochs=QUICK_SPIRAL["plain"]["epochs"], quick_anneal=QUICK_SPIRAL["annealed"]["anneal_std_epochs"],
            quick_annealed=QUICK_SPIRAL["annealed"]["epochs"],
            warmup=PLAIN["warmup_epochs"], iwae_k=ANNEALED["k"], anneal_epochs=ANNEALED["anneal_std_epochs"],
            epochs=ANNEALED["epochs"], f0=ANNEALED["anneal_std"][0], f1=ANNEALED["anneal_std"][1],
            last=ANNEALED["epochs"] - ANNEALED["anneal_std_epochs"], k=SPIRAL_K, nodes=NODES, nodes_check=NODES_CHECK),
        _("Every density is drawn on one grid of {grid}×{grid} cells over the unit square, as a density per unit area "
          "on one colour scale: the truth, the mixture with the best validation log-likelihood, and for each VAE "
          "its density and a histogram of {draws:,} draws from it (z ~ N(0, 1), then "
          "x ~ P(x|z), not just the decoded mean). Each model is scored on the {n_test:,} held-out "
          "test points in nats per example, beside the true density's own score: the ceiling, since the mean of "
          "log q(x) − log p(x) over x ~ p is −KL(p‖q) ≤ 0. That difference is also measured point by point, so its "
          "standard error (of a paired difference) is small enough to tell a model that truly reaches the ceiling "
          "from noise. Whether the VAE's Gaussians run along the spiral is measured too: its decoded means μ(z) at "
          "{curve_points} quantiles of its prior form a curve, and the mean distance from the spiral (uniform in t, "
          "as the data) to the nearest of them is set beside the noise σ.").format(
            grid=GRID, draws=DRAWS, n_test=spiral.SPLIT_SIZES["test"], curve_points=CURVE_POINTS)]


def run_part(ctx, section) -> None:
    """Part 1: the measurements (remembered in the report folder), then the numbers, the figures and the table."""
    measured = _measure_spiral(ctx)
    _spiral_numbers(section, measured)
    _spiral_figures(ctx, section, measured)


def _measure_spiral(ctx) -> dict:
    """Part 1's measurements on the 2-D spiral, every one remembered in the report folder (``ctx.remember``):
    the true density's, the mixtures' and the two VAEs' test scores (per seed for the VAEs), the mixtures'
    validation scores, the heat maps and the VAEs' decoded mean curves."""
    from ...data import load
    from ...eval.likelihood import log_px
    from ...objectives.quadrature import log_px_quadrature
    from ...eval.grid import (gaussian_draws, histogram_density, mean_curve, nearest_distance, on_grid, paired_gap,
                              square_grid)

    dev = ctx.device
    gmms = {m: ctx.train(f"spiral-gmm-{m}").model for m in SPIRAL_COMPONENTS}

    with torch.no_grad():
        test = load("spiral", "test").model_input("gaussian", device=dev)        # (N, 1, 1, 2)
        val = load("spiral", "val").model_input("gaussian", device=dev)
        grid = square_grid(GRID, device=dev)
        true_lp = spiral.log_density(test).double()
        on_spiral = spiral.curve(torch.linspace(0, 1, 2001, dtype=torch.float64))

        def vae_log_prob(model, points, nodes=NODES):   # points (B, 2) -> (B,), nats: log ∫ P(z) P(x|z) dz
            return log_px_quadrature(model, points.reshape(-1, 1, 1, 2), nodes=nodes)

        def vae_log_prob_sampled(model, points):   # the same, importance sampled (vaekit eval's estimate)
            # in blocks of 16,384 decoded points rather than 4,096: a 2-D point is tiny, and fewer, larger
            # tensor operations are faster here (and much faster on a busy CPU)
            return log_px(model, points.reshape(-1, 1, 1, 2), k=SPIRAL_K, batch_size=16384 // SPIRAL_K,
                          generator=ctx.generator(31), max_rows=16384)

        # The 1-D-latent VAE, one random start per seed, trained two ways (``plan.SPIRAL_RECIPES``): with the
        # decoder's std annealed ("spiral-vae"), and by the plain ELBO ("spiral-vae-plain": the lesson).
        def vae_scores(name, s):
            """Seed s of run ``name``: its test scores, its decoded curve and its training seconds (measured once
            per report folder: ``ctx.remember``)."""
            run = ctx.train(name, s)
            return {"lp": vae_log_prob(run.model, test).double(), "seconds": sum(r["seconds"] for r in run.history),
                    "curve": mean_curve(run.model, CURVE_POINTS).reshape(-1, 2).cpu()}

        per_seed = {}
        for name in ("spiral-vae", "spiral-vae-plain"):
            per_seed[name] = []
            for s in ctx.seeds:
                r = ctx.remember("spiral-vae", [(name, s)], lambda: vae_scores(name, s), nodes=NODES,
                                 curve=CURVE_POINTS)
                r.update(coverage=nearest_distance(on_spiral, r["curve"].cpu()).mean().item(),
                         gap=paired_gap(r["lp"], true_lp))
                per_seed[name].append(r)
        vae, plain = ctx.train("spiral-vae").model, ctx.train("spiral-vae-plain").model

        # Held-out scores, nats per example (test), and the validation scores that pick the best mixture.
        both = {m: ctx.remember("spiral-gmm", [(f"spiral-gmm-{m}", 0)],
                                lambda g=g: g.log_prob(torch.cat([test, val])).double())
                for m, g in gmms.items()}                                           # one pass each
        scores = {m: lp[:len(test)] for m, lp in both.items()}
        val_scores = {m: lp[len(test):].mean().item() for m, lp in both.items()}
        best = max(val_scores, key=val_scores.get)

        def maps():
            """The VAE's checks (twice the nodes; importance sampled), and the six heat maps: density per unit
            area on one grid."""
            out = {"check": vae_log_prob(vae, test, NODES_CHECK).double(),
                   "sampled": vae_log_prob_sampled(vae, test).double(),
                   "true": on_grid(lambda p: spiral.log_density(p), grid),
                   "gmm": on_grid(lambda p: gmms[best].log_prob(p), grid)}
            for key, model in (("vae", vae), ("plain", plain)):
                draws = gaussian_draws(model, DRAWS, generator=ctx.generator(32)).reshape(-1, 2)
                out[key] = on_grid(lambda p: vae_log_prob(model, p), grid)
                out[f"{key}_hist"] = histogram_density(draws, grid)
            return out

        drawn = ctx.remember("spiral-maps", [("spiral-vae", 0), ("spiral-vae-plain", 0), (f"spiral-gmm-{best}", 0)],
                             maps, grid=GRID, draws=DRAWS, nodes=NODES, check=NODES_CHECK, k=SPIRAL_K)

        # Whether the VAE's Gaussians run along the spiral: its decoded means μ(z) along the 1-D code, and
        # the distance from each point of the spiral (uniform in t, as the data) to the nearest of them.
        vae_curve = per_seed["spiral-vae"][0]["curve"].cpu()
        plain_curve = per_seed["spiral-vae-plain"][0]["curve"].cpu()

    return {"test_n": len(test), "true_lp": true_lp, "grid": grid, "scores": scores, "val_scores": val_scores,
            "best": best, "per_seed": per_seed, "drawn": drawn, "vae_curve": vae_curve, "plain_curve": plain_curve}


def _spiral_numbers(section, r: dict) -> None:
    """Part 1's numbers: the scores, their standard errors and paired gaps, the masses on the grid, the curves'
    distances to the spiral."""
    from ...eval.grid import grid_mass, mean_and_se, paired_gap

    n, true_lp, scores, val_scores, best = r["test_n"], r["true_lp"], r["scores"], r["val_scores"], r["best"]
    per_seed, drawn, grid = r["per_seed"], r["drawn"], r["grid"]
    vae_lp, vae_lp_check = per_seed["spiral-vae"][0]["lp"], drawn["check"]
    true_map, gmm_map = drawn["true"], drawn["gmm"]
    true_ll, true_se = mean_and_se(true_lp)
    nats, samples = _("nats per example"), _("samples")
    number(section, "test_n", n, _("points"), _("held-out (test) points scored"))
    number(section, "true_ll", true_ll, nats, _("true density: held-out mean log p(x) (the ceiling)"))
    number(section, "true_se", true_se, nats, _("true density: standard error of that mean"))
    for m in SPIRAL_COMPONENTS:
        ll, se = mean_and_se(scores[m])
        gap, gap_se = paired_gap(scores[m], true_lp)
        number(section, f"gmm{m}_ll", ll, nats, _("GMM, M = {m}: held-out mean log P(x) (exact)").format(m=m))
        number(section, f"gmm{m}_se", se, nats, _("GMM, M = {m}: standard error of that mean").format(m=m))
        number(section, f"gmm{m}_gap", gap, nats, _("GMM, M = {m}: mean of log P(x) − log p(x) "
                                                    "over the test points (≤ 0 in expectation)").format(m=m))
        number(section, f"gmm{m}_gap_se", gap_se, nats, _("GMM, M = {m}: standard error of that "
                                                          "paired difference").format(m=m))
        number(section, f"gmm{m}_val_ll", val_scores[m], nats,
               _("GMM, M = {m}: validation mean log P(x) (picks the best mixture)").format(m=m))
    vae_ll, vae_se = mean_and_se(vae_lp)
    vae_gap, vae_gap_se = per_seed["spiral-vae"][0]["gap"]
    annealed, lesson = per_seed["spiral-vae"], per_seed["spiral-vae-plain"]
    number(section, "vae_nodes", NODES, _("values of z"),
           _("values of the VAE's code z over which its log P(x) = log ∫ P(z) P(x|z) dz is summed"))
    seeded_number(section, "vae_ll", [mean_and_se(r["lp"])[0] for r in annealed], nats,
                  _("VAE (1-D latent), the decoder's std annealed: held-out mean log P(x) (summed over z)"))
    seeded_number(section, "vae_plain_ll", [mean_and_se(r["lp"])[0] for r in lesson], nats,
                  _("VAE (1-D latent), the plain ELBO from a single random start: held-out mean log P(x)"))
    seeded_number(section, "vae_plain_gap", [r["gap"][0] for r in lesson], nats,
                  _("VAE, the plain ELBO: mean of log P(x) − log p(x) over the test points"))
    seeded_number(section, "vae_seconds", [r["seconds"] for r in annealed], _("seconds"),
                  _("VAE, the decoder's std annealed: training time (one thread)"))
    seeded_number(section, "vae_plain_seconds", [r["seconds"] for r in lesson], _("seconds"),
                  _("VAE, the plain ELBO: training time (one thread)"))
    number(section, "vae_ll_check", vae_lp_check.mean().item(), nats,
           _("VAE: the same summed over {nodes:,} values of z (how far the sum still moves)").format(nodes=NODES_CHECK))
    number(section, "vae_nodes_check", NODES_CHECK, _("values of z"), _("the values of z of that check"))
    number(section, "vae_is_ll", drawn["sampled"].mean().item(), nats,
           _("VAE: held-out mean of the importance-sampled estimate of log P(x), k = {k} (vaekit eval's; first "
             "seed)").format(k=SPIRAL_K))
    number(section, "vae_is_k", SPIRAL_K, samples, _("importance samples per point of that estimate"))
    number(section, "vae_se", vae_se, nats, _("VAE: standard error of that mean (first seed)"))
    seeded_number(section, "vae_gap", [r["gap"][0] for r in annealed], nats,
                  _("VAE: mean of log P(x) − log p(x) over the test points (≤ 0 in expectation)"))
    number(section, "vae_gap_se", vae_gap_se, nats, _("VAE: standard error of that paired difference "
           "(first seed)"))
    number(section, "best_gmm", best, _("components"), _("the mixture with the best validation log-likelihood"))
    number(section, "mass_true", grid_mass(true_map, grid), _("probability"),
           _("true density's mass on the grid (midpoint rule; ≈ 1)"))
    number(section, "mass_gmm", grid_mass(gmm_map, grid), _("probability"), _("best GMM's mass on the grid"))
    number(section, "mass_vae", grid_mass(drawn["vae"], grid), _("probability"),
           _("VAE's mass on the grid (its density summed over z; ≤ 1)"))
    number(section, "draws_inside", (drawn["vae_hist"].sum() * grid.cell_area).item(), _("fraction"),
           _("fraction of the VAE's draws inside the unit square"))

    number(section, "noise_std", spiral.NOISE_STD, _("unit-square lengths"),
           _("the data's noise: standard deviation of the Gaussian blur about the spiral"))
    seeded_number(section, "vae_coverage", [r["coverage"] for r in annealed], _("unit-square lengths"),
                  _("VAE: mean distance from the spiral (uniform in t) to the nearest of its decoded means μ(z) at "
                    "{curve_points} prior quantiles of z").format(curve_points=CURVE_POINTS))
    seeded_number(section, "vae_plain_coverage", [r["coverage"] for r in lesson], _("unit-square lengths"),
                  _("VAE, the plain ELBO: the same distance"))


def _spiral_figures(ctx, section, r: dict) -> None:
    """Part 1's figures (the heat maps; the held-out log-likelihood against the mixtures' sizes) and its table."""
    from ...eval.grid import mean_and_se
    from ...viz.density import Line, density_maps_png, loglik_vs_components_png

    n, best, per_seed, drawn, grid = r["test_n"], r["best"], r["per_seed"], r["drawn"], r["grid"]
    true_map, gmm_map, vae_curve, plain_curve = drawn["true"], drawn["gmm"], r["vae_curve"], r["plain_curve"]
    true_ll, true_se = mean_and_se(r["true_lp"])
    vae_ll, vae_se = mean_and_se(per_seed["spiral-vae"][0]["lp"])
    vae_gap, vae_gap_se = per_seed["spiral-vae"][0]["gap"]
    vmax = true_map.exp().max().item()
    curve = spiral.curve(torch.linspace(0, 1, 400, dtype=torch.float64))
    decoded_mean = _("decoded mean μ(z)")
    maps = [(_("true density p(x)"), true_map.exp()),
            (_("best GMM, M = {m} (exact)").format(m=best), gmm_map.exp()),
            (_("VAE, std annealed: P(x) = ∫ P(z) P(x|z) dz"), drawn["vae"].exp(),
             (decoded_mean, vae_curve)),
            (_("VAE, std annealed: {draws:,} draws").format(draws=DRAWS), drawn["vae_hist"], (decoded_mean, vae_curve)),
            (_("VAE, plain ELBO: P(x) = ∫ P(z) P(x|z) dz"), drawn["plain"].exp(),
             (decoded_mean, plain_curve)),
            (_("VAE, plain ELBO: {draws:,} draws").format(draws=DRAWS), drawn["plain_hist"],
             (decoded_mean, plain_curve))]
    ctx.figure(section, "mixture-heatmaps",
               density_maps_png(maps, grid.extent, vmax, _("density per unit area (linear scale)"),
                                title=_("The spiral's density and two models of it"), curve=curve),
               caption=_("Densities per unit area on a grid of {grid}×{grid} cells over the unit square, one linear "
                         "colour scale from 0 to the true density's maximum on the grid ({vmax:.1f}); higher values "
                         "are clipped to the top colour. The dotted line is the spiral the data follow; the cyan line, "
                         "the VAE's decoded mean μ(z) as z runs through its prior. Top: the true "
                         "density and the Gaussian mixture with the best validation score (M = {best}). Middle: "
                         "the VAE trained with its decoder's std annealed, its density (P(x) = ∫ P(z) P(x|z) dz "
                         "summed over {nodes:,} values of z at each cell centre) and a histogram of {draws:,} draws z ~ N(0, 1), "
                         "x ~ P(x|z) from it. Bottom: the same network trained by the plain ELBO from one random "
                         "start, the same two ways (first seed each).").format(
                   grid=GRID, vmax=vmax, best=best, nodes=NODES, draws=DRAWS),
               alt=_("Six heat maps of the unit square: the true spiral density, the best mixture (M = {best}), and "
                     "for the VAE trained with its decoder's std annealed and by the plain ELBO, the "
                     "density and a histogram of draws.").format(best=best),
               width=820)

    vae_label = _("VAE, 1-D latent, std annealed")
    plain_label = _("VAE, 1-D latent, plain ELBO")
    plain_ll, plain_se = mean_and_se(per_seed["spiral-vae-plain"][0]["lp"])
    plain_gap, plain_gap_se = per_seed["spiral-vae-plain"][0]["gap"]
    lines = [Line(vae_label, vae_ll, vae_se, "tab:orange"),
             Line(plain_label, plain_ll, plain_se, "tab:red", "-."),
             Line(_("true density (the ceiling)"), true_ll, true_se, "black", ":")]
    ctx.figure(section, "mixture-loglik",
               loglik_vs_components_png(list(SPIRAL_COMPONENTS),
                                        [section.number_of(f"gmm{m}_ll") for m in SPIRAL_COMPONENTS],
                                        [section.number_of(f"gmm{m}_se") for m in SPIRAL_COMPONENTS], lines,
                                        title=_("Held-out log-likelihood on the spiral ({n:,} test points)").format(
                                            n=n)),
               caption=_("Held-out mean log-likelihood in nats per point against the number of mixture components "
                         "(error bars and bands: ±2 standard errors of each mean). The dotted line is the true "
                         "density's own score, which no model beats on average; the other two lines, the VAE "
                         "trained with its decoder's std annealed and by the plain ELBO (first seed each)."),
               alt=_("Mixture log-likelihood rising with the number of components, with the two VAEs' and the true "
                     "density's scores as horizontal lines."),
               width=600)

    table(section, _("Held-out log-likelihood on the spiral, nats per point ({n:,} test points; the VAEs: first "
                     "seed)").format(n=n),
          [_("model"), _("log P(x), nats per point"), _("± s.e."), _("minus the true density's (paired)"),
           _("± s.e.")],
          [[_("true density (ceiling)"), true_ll, true_se, 0.0, None]]
          + [[_("GMM, M = {m}").format(m=m), section.number_of(f"gmm{m}_ll"), section.number_of(f"gmm{m}_se"),
              section.number_of(f"gmm{m}_gap"), section.number_of(f"gmm{m}_gap_se")] for m in SPIRAL_COMPONENTS]
          + [[vae_label, vae_ll, vae_se, vae_gap, vae_gap_se],
             [plain_label, plain_ll, plain_se, plain_gap, plain_gap_se]])
