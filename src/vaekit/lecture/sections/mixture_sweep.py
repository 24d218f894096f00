"""Section 3's second part: the lecture's claim measured where it matters, in D dimensions.

The same 1-D spiral manifold embedded in D = 2, 8, 32 and 128 dimensions (``data.spiral.embed``:
a fixed orthonormal embedding, noise of the same σ in every direction, so the true density is
exact).  Gaussian mixtures (full and diagonal covariance, M components) and the 1-D-latent VAE
are scored on the held-out points, each as its distance below the true density (the ceiling) in
nats per point, beside its number of parameters.  Runs: ``sweep-gmm-<cov>-<M>-d<D>`` and
``sweep-vae-d<D>`` (one per seed; for D = 2, the spiral's own ``spiral-vae``, trained the same way:
``Plan.sweep_vae_run``).  ``run_part`` adds the numbers, the figure and the table to section 3.
"""

from __future__ import annotations

import torch

from ...data import load
from ...data.spiral import curve, embed, embedded_log_density
from ...eval.grid import mean_curve, nearest_distance, paired_gap
from ...objectives.quadrature import log_px_quadrature
from ...i18n import N_, _, ngettext
from ...viz.sweep import SweepPanel, sweep_png
from ..context import number, seeded_number, table
from ..plan import SWEEP_DIMS, SWEEP_MAX_ITER
from .mixture_spiral import CURVE_POINTS, NODES   # the VAE is summed and its curve measured as in part 1

COVARIANCES = {"full": N_("full"), "diag": N_("diag")}   # the mixtures' covariances, as the page names them


def method() -> str:
    """How part 2 measures the claim (one paragraph)."""
    return _(
        "Part 2 measures the lecture's claim where it matters: the same 1-D spiral, embedded in D = "
        "{dims} dimensions by a fixed random orthonormal map, with Gaussian noise of the "
        "same σ added in every direction, so its true density stays exact (the plane's spiral density times the "
        "noise of the other D − 2 directions). Mixtures with full and with diagonal covariances, M components each "
        "(EM, at most {max_iter} iterations), and the 1-D-latent VAE (the same network, trained with its "
        "decoder's std annealed as above, or by the plain ELBO with --quick; a single random start once per seed; "
        "its log P(x) summed over {nodes:,} values of z, as above) are fitted on the same training points and scored "
        "on the held-out ones, each as its mean distance below the true density, in nats per point, beside its "
        "number of parameters; for the VAE also the mean distance from the spiral to its decoded curve μ(z), in D "
        "dimensions. The expected shape: a finite mixture needs ever more components and parameters as "
        "D grows, the infinite one does not.").format(dims=", ".join(map(str, SWEEP_DIMS)), max_iter=SWEEP_MAX_ITER,
                                                      nodes=NODES)


def data_name(dim: int) -> str:
    return "spiral" if dim == 2 else f"spiral-d{dim}"


def gmm_parameters(covariance: str, components: int, dim: int) -> int:
    """Free parameters of a mixture: M − 1 weights, M·D means, and M·D variances (diag) or M·D(D+1)/2 (full)."""
    per = dim * (dim + 1) // 2 if covariance == "full" else dim
    return components - 1 + components * dim + components * per


@torch.no_grad()
def run_part(ctx, section) -> None:
    panels, rows = [], []
    components = ctx.plan.sweep_components
    nats = _("nats per example")
    best_labels = {"full": _("D = {dim}: the best full-covariance mixture's distance below the ceiling (held-out)"),
                   "diag": _("D = {dim}: the best diag-covariance mixture's distance below the ceiling (held-out)")}
    for dim in SWEEP_DIMS:
        test = load(data_name(dim), "test").model_input("gaussian", device=ctx.device)     # (N, 1, 1, D)
        true_lp = embedded_log_density(test, dim)
        number(section, f"sweep_d{dim}_ceiling", true_lp.mean(), nats,
               _("D = {dim}: the true density's held-out mean log p(x) (the ceiling)").format(dim=dim))
        mixtures = {}
        for cov in ("full", "diag"):
            mixtures[cov] = []
            for m in components:
                name = f"sweep-gmm-{cov}-{m}-d{dim}"
                gap = ctx.remember("sweep-gmm", [(name, 0)],
                                   lambda name=name: paired_gap(ctx.train(name).model.log_prob(test).double(), true_lp)[0])
                params = gmm_parameters(cov, m, dim)
                mixtures[cov].append((params, -gap, m))
                rows.append([dim, _("GMM, {cov}").format(cov=_(COVARIANCES[cov])), m, params, gap, None])
            best = max(mixtures[cov], key=lambda p: -p[1])
            number(section, f"sweep_d{dim}_{cov}_below", best[1], nats, best_labels[cov].format(dim=dim))
            number(section, f"sweep_d{dim}_{cov}_m", best[2], _("components"),
                   _("D = {dim}: that mixture's M").format(dim=dim))
            number(section, f"sweep_d{dim}_{cov}_params", best[0], _("parameters"),
                   _("D = {dim}: its parameters").format(dim=dim))
        vae_points, below, curves = [], [], []
        on_spiral = embed(curve(torch.linspace(0, 1, 2001, dtype=torch.float64)), dim)
        for s in ctx.seeds:
            vae = ctx.train(ctx.plan.sweep_vae_run(dim), s).model
            gap = ctx.remember("sweep-vae", [(ctx.plan.sweep_vae_run(dim), s)], lambda: paired_gap(
                log_px_quadrature(vae, test, nodes=NODES).double(), true_lp)[0], nodes=NODES)
            # how far the spiral is from the VAE's decoded means μ(z), in D dimensions (cheap: not remembered)
            far = nearest_distance(on_spiral, mean_curve(vae, CURVE_POINTS).reshape(-1, dim).cpu()).mean().item()
            params = sum(p.numel() for p in vae.parameters())
            vae_points.append((params, -gap))
            below.append(-gap)
            curves.append(far)
            rows.append([dim, _("VAE, 1-D latent (seed {seed})").format(seed=ctx.plan.seed + s), None, params, gap,
                         far])
        seeded_number(section, f"sweep_d{dim}_vae_below", below, nats,
                      _("D = {dim}: the VAE's distance below the ceiling (held-out)").format(dim=dim))
        seeded_number(section, f"sweep_d{dim}_vae_curve", curves, _("unit-square lengths"),
                      _("D = {dim}: mean distance from the spiral to the nearest of the VAE's decoded means μ(z) at "
                        "{points} prior quantiles").format(dim=dim, points=CURVE_POINTS))
        number(section, f"sweep_d{dim}_vae_params", vae_points[0][0], _("parameters"),
               _("D = {dim}: the VAE's parameters").format(dim=dim))
        panels.append(SweepPanel(dim, mixtures, vae_points))
    ctx.figure(section, "mixture-sweep", sweep_png(panels, _("The spiral in D dimensions: nats per point below the "
                                                             "true density")),
               caption=_("Each model's held-out mean log-likelihood below the true density's (nats per point, log "
                         "scale; lower is better, 0.001 is drawn for anything closer), against its number of "
                         "parameters, for the spiral embedded in D = {dims} dimensions. Lines: mixtures with M = "
                         "{components} components (labelled), full and diagonal covariance. "
                         "Stars: the 1-D-latent VAE, one per seed.").format(
                   dims=", ".join(map(str, SWEEP_DIMS)), components=", ".join(map(str, components))),
               alt=_("Four panels, one per dimension D: distance below the true density against parameters for "
                     "full and diagonal Gaussian mixtures and the VAE."),
               width=900)
    table(section, _("The spiral in D dimensions: held-out log P(x) minus the true density's, nats per point (≤ 0; "
                     "closer to 0 is better)"),
          ["D", _("model"), "M", _("parameters"), _("minus the true density's"),
           _("decoded curve's distance from the spiral")], rows)


def conclusion(numbers: dict) -> list[str]:
    """Sentences on the sweep (none if it was not measured), from ``Section.numbers``."""
    v = {key: entry["value"] for key, entry in numbers.items()}
    dims = [d for d in SWEEP_DIMS if f"sweep_d{d}_vae_below" in v]
    if not dims:
        return []
    seeds = len(numbers[f"sweep_d{dims[0]}_vae_below"].get("seeds") or [0])
    parts, vae_wins, vaes, mixes = [], [], [], []
    for d in dims:
        vae = v[f"sweep_d{d}_vae_below"]
        best_cov = min(("full", "diag"), key=lambda c: v[f"sweep_d{d}_{c}_below"])
        mix = v[f"sweep_d{d}_{best_cov}_below"]
        vaes.append(vae)
        mixes.append(mix)
        parts.append(_("D = {d}: the VAE {vae:.2f}, the best mixture ({cov}, M = {m}, {params:,} parameters) "
                       "{mix:.2f}").format(d=d, vae=vae, cov=_(COVARIANCES[best_cov]), m=v[f"sweep_d{d}_{best_cov}_m"],
                                          params=v[f"sweep_d{d}_{best_cov}_params"], mix=mix))
        per = numbers[f"sweep_d{d}_vae_below"].get("seeds") or [vae]
        vae_wins.append(sum(1 for x in per if x is not None and x < mix))
    out = [ngettext("In D dimensions, nats per point below the true density (mean over {n} seed for the VAE): "
                    "{parts}.",
                    "In D dimensions, nats per point below the true density (mean over {n} seeds for the VAE): "
                    "{parts}.", seeds).format(n=seeds, parts=_("; ").join(parts))]
    won = [d for d, w in zip(dims, vae_wins) if w == seeds]
    if len(won) == len(dims):
        out.append(_("The infinite mixture beats every finite one tried in every D, in {n} of {n} seeds.").format(
            n=seeds))
    elif won:
        out.append(_("The VAE beats every mixture tried only for D = {dims} (in all seeds); "
                     "elsewhere a finite mixture is closer to the truth.").format(dims=", ".join(map(str, won))))
    else:
        behind = [vae - mix for vae, mix in zip(vaes, mixes)]
        if all(a < b for a, b in zip(behind, behind[1:])):
            out.append(_("The lecture's expected shape does not appear here: in every D a finite mixture comes closer "
                         "to the true density than this VAE, which falls further behind as D grows."))
        else:
            out.append(_("The lecture's expected shape does not appear here: in every D a finite mixture comes closer "
                         "to the true density than this VAE."))
    if len(dims) > 1 and 0 < mixes[0] < mixes[-1] and 0 < vaes[0] < vaes[-1]:
        out.append(_("From D = {d0} to D = {d1} the best mixture's distance below the ceiling grows "
                     "{mix_fold:.0f}-fold "
                     "({mix0:.3f} to {mix1:.2f} nats per point), the VAE's {vae_fold:.0f}-fold ({vae0:.2f} to "
                     "{vae1:.2f}).").format(d0=dims[0], d1=dims[-1], mix_fold=mixes[-1] / mixes[0], mix0=mixes[0],
                                            mix1=mixes[-1], vae_fold=vaes[-1] / vaes[0], vae0=vaes[0], vae1=vaes[-1]))
    if all(f"sweep_d{d}_vae_curve" in v for d in dims) and "noise_std" in v:
        noise = v["noise_std"]
        parts = []
        for d in dims:
            per = [x for x in numbers[f"sweep_d{d}_vae_curve"].get("seeds") or [v[f"sweep_d{d}_vae_curve"]]
                   if x is not None]
            parts.append(_("D = {d}: {dist:.3f} ({close} of {n})").format(
                d=d, dist=v[f"sweep_d{d}_vae_curve"], close=sum(x < noise for x in per), n=len(per)))
        out.append(_("The VAE's decoded curve μ(z) lies on average this far from the spiral, and closer than the "
                     "noise σ = {noise:.2f} in so many seeds: {parts}.").format(noise=noise, parts=_("; ").join(parts)))
    return out
