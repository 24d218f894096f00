"""Section 1, AE vs VAE: the moon.  What the codes between a full moon and a half moon decode to.

The lecture's own setting first: a plain AE and a VAE with a 2-D code trained on full and half
moons only (``moons-pair``: phases near 0 and near 0.5, jittered in position, nothing in
between; runs ``moon-pair-ae`` and ``moon-pair-vae``, once per seed).  For every decode the
answer is known: ``eval.nearest.nearest_images`` against ``data.moons.moon_sweep`` gives the
RMS distance to the nearest clean moon and that moon's phase, so a decode is "a moon" when it is
as close to one as real moons are, and "a new moon" when that moon's phase is one the data never
had (between NEW_PHASES).  Then a fair test of the claim on the first seed (a larger KL weight,
three times the training, and a draw from p(x|c) in place of its mean), and last the contrast
with every phase in the data (``moon_all_phases``).
"""

from __future__ import annotations

import sys

import torch

from ...data.moons import JITTER, PAIR_SPLIT_SIZES, PAIR_WIDTH, generate_moon_pair, moon_sweep
from ...eval.nearest import nearest_images
from ...i18n import N_, _, ngettext, sentences
from ...viz.codes import Plane, Strip, code_plane_png, path_strips_png
from ..context import number, seeded_number, table
from . import moon_all_phases
from .moon_all_phases import GRID, OFF_MOON_QUANTILE, REAL_MOONS, _grid, _spread_range

NUMBER = 1
ID = "moon"
TITLE = N_("AE vs VAE: the moon")
CLAIM = N_(
    "A plain autoencoder maps each image to one code m and learns nothing about the codes between "
    "them: a code halfway between a full moon's and a half moon's may decode to anything, typically "
    "no moon at all. A VAE decodes a noisy code c = m + exp(σ/2)·e, e ~ N(0, I), so every code within "
    "the noise around m must decode to that image too. Where the noise of a full moon and of a half "
    "moon overlap, the decoder must serve both, and the best it can do is a moon of an in-between "
    "phase: the VAE's in-between codes decode to in-between moons."
)
SWEEP_PHASES = 64          # reference phases on [0, PHASE_MAX]
SWEEP_OFFSETS = 5          # each at 5 × 5 centre offsets: a jittered full moon is not mistaken for another phase
PATH_STEPS = 21            # decodes along the path between the clusters' mean codes, both ends included
BAND_STEPS = 15            # the region between the clusters: BAND_STEPS along the path × BAND_STEPS across it
BAND_SPREAD = 2.0          # across: ± 2 standard deviations of the codes about the path's line
NEW_PHASES = (0.1, 0.4)    # phases the pair data never has (it has [0, 0.03] and [0.47, 0.53])
FRESH_SEED = 4             # the generator seed of the fresh moons (the pair's splits use 11, 12, 13)
MODELS = (("AE", "moon-pair-ae"), ("VAE", "moon-pair-vae"))
FAIR = (("beta", "moon-pair-vae-beta4", N_("KL weight β = 4")), ("long", "moon-pair-vae-long", N_("3× the epochs")))
# the fair test's measures, as its labels name them
FAIR_MEASURES = {"path_moon": N_("path moon"), "path_new": N_("path new"), "band_moon": N_("band moon"),
                 "band_new": N_("band new")}
MORE = 0.05                # "more often": a fraction higher by more than 5 points


def method() -> str:
    """How the experiment tests the claim (paragraphs), the all-phases contrast's last."""
    return "\n\n".join([
        _("The lecture's own setting: we train a plain AE and a VAE, each with a 2-D code and the same MLP "
          "(784-256-2), on {n_train:,} generated full and half moons only (28×28; phase uniform "
          "on [0, {width}] or on 0.5 ± {width}; the centre jittered by up to ±{jitter:.0%} of the width in x "
          "and y; lit value 1), nothing in between; Adam at lr 2e-3 annealed to 0, batches of 64. The generator "
          "also draws clean reference moons on a dense sweep ({phases} phases × {offsets} centre offsets), "
          "so for any image we measure the RMS pixel distance to the nearest true moon and that moon's phase. "
          "A decode counts as a moon when it is as close to one as {quantile:.0%} of {real} fresh real "
          "moons are, and as a new moon when it is a moon whose phase lies between {lo} and "
          "{hi}, phases the training data never had.").format(
            n_train=PAIR_SPLIT_SIZES["train"], width=PAIR_WIDTH, jitter=JITTER, phases=SWEEP_PHASES,
            offsets=SWEEP_OFFSETS ** 2, quantile=OFF_MOON_QUANTILE, real=REAL_MOONS, lo=NEW_PHASES[0],
            hi=NEW_PHASES[1]),
        _("We encode the fresh moons and take the mean code m of the full moons and of the half moons. (a) Along "
          "the straight path between the two we decode {steps} codes and measure each decode's distance and "
          "phase, the fraction that are moons and the fraction that are new moons. (b) Over the region between "
          "the two clusters, a {band}×{band} grid running along that path and ±{spread:g} standard deviations "
          "of the codes across it, the same two fractions. Each model is trained once per seed, and these "
          "headline measures are the mean over the seeds, each seed's value beside it. (c) A fair test of the "
          "claim, on the first seed: the VAE again with a KL weight β = 4 (more noise, more overlap), and with 3× "
          "the epochs; and a draw x ~ p(x|c) at each path code instead of the decoded mean.").format(
            steps=PATH_STEPS, band=BAND_STEPS, spread=BAND_SPREAD),
        moon_all_phases.method()])


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    size = ctx.train(MODELS[0][1]).model.config.image_shape[-1]
    refs, ref_phases = moon_sweep(size, n_phases=SWEEP_PHASES, n_offsets=SWEEP_OFFSETS)
    real, real_phases = generate_moon_pair(REAL_MOONS, FRESH_SEED, size)    # (R, 1, S, S) uint8, (R,)
    real_x = real.to(ctx.device).float().div(255)
    real_d, real_i = nearest_images(real, refs)
    q95 = torch.quantile(real_d, OFF_MOON_QUANTILE).item()
    number(section, "pair_moon_q95", q95, _("RMS pixel distance"),
           _("a moon: at most this far from the nearest reference ({quantile:.0%} of real full and half moons "
             "are)").format(quantile=OFF_MOON_QUANTILE))
    number(section, "pair_real_new", 100 * _is_new(real_d, ref_phases[real_i], q95).float().mean(), "%",
           _("real full and half moons counted as new moons (the measure's false alarms)"))

    per_seed = {name: [] for name, _run in MODELS}
    shown = {}
    for s in ctx.seeds:
        for name, run_name in MODELS:
            model = ctx.train(run_name, s).model
            m = ctx.remember("moon-pair", [(run_name, s)], lambda: measure_pair(
                model, real_x, real_phases, refs, ref_phases, q95, ctx.device), steps=PATH_STEPS, band=BAND_STEPS)
            per_seed[name].append(m)
            if s == 0:
                shown[name] = (model, m)
    for name, _run in MODELS:
        key = name.lower()
        for what, unit, label in (
                ("path_d", _("RMS pixel distance"), _("path decodes: mean distance to the nearest true moon")),
                ("path_moon", "%", _("path decodes that are moons")),
                ("path_new", "%", _("path decodes that are new moons (a phase the data never had)")),
                ("band_moon", "%", _("decodes of the region between the clusters that are moons")),
                ("band_new", "%", _("decodes of the region between the clusters that are new moons"))):
            seeded_number(section, f"pair_{what}_{key}", [m[what] for m in per_seed[name]], unit,
                          _("{model}: {label}").format(model=name, label=label))

    # (c) the fair test, on the first seed
    vae, vae_m = shown["VAE"]
    for key, run_name, what in FAIR:
        m = ctx.remember("moon-pair", [(run_name, 0)], lambda run_name=run_name: measure_pair(
            ctx.train(run_name).model, real_x, real_phases, refs, ref_phases, q95, ctx.device),
            steps=PATH_STEPS, band=BAND_STEPS)
        for measure, measure_label in FAIR_MEASURES.items():
            number(section, f"fair_{key}_{measure}", m[measure], "%",
                   _("VAE with {what}: {measure}").format(what=_(what), measure=_(measure_label)))
    draws = torch.bernoulli(vae_m["path_x"], generator=torch.Generator().manual_seed(ctx.plan.seed))
    d, i = nearest_images(draws, refs)
    number(section, "fair_draw_moon", 100 * (d <= q95).float().mean(), "%",
           _("VAE: draws x ~ p(x|c) at the path codes that are moons"))
    number(section, "fair_draw_new", 100 * _is_new(d, ref_phases[i], q95).float().mean(), "%",
           _("VAE: draws at the path codes that are new moons"))
    number(section, "fair_draw_d", d.mean(), _("RMS pixel distance"),
           _("VAE: draws' mean distance to the nearest true moon"))

    strips = [Strip(name, m["path_x"], refs[m["path_i"]], m["path_dist"], ref_phases[m["path_i"]])
              for name, (_model, m) in shown.items()]
    strips.append(Strip(_("VAE draw"), draws, refs[i], d, ref_phases[i]))
    ctx.figure(section, "moon-pair-path",
               path_strips_png(strips, _("Full and half moons only: from the full moons' mean code to the half moons'")),
               _("Trained on full and half moons only (first seed). Decodes along the straight path from the full "
                 "moons' mean code to the half moons', AE (top), VAE (middle), and a draw x ~ p(x|c) from the VAE at "
                 "the same codes (bottom). Under each: the nearest true moon, its RMS distance d and its phase φ "
                 "(the data has φ near 0 and near 0.5 only)."),
               _("Three strips of images decoded along a path in code space, each above the nearest true moon."),
               width=900)
    planes = []
    for name, (model, m) in shown.items():
        lo, hi = _spread_range(m["codes"].cpu())
        with torch.no_grad():
            grid_x = model.decode(_grid(lo, hi).to(ctx.device)).mean.cpu()
        planes.append(Plane(name, grid_x.view(GRID, GRID, *grid_x.shape[1:]), lo, hi, m["codes"].cpu(), real_phases,
                            torch.stack(m["ends"]).cpu()))
    ctx.figure(section, "moon-pair-plane", code_plane_png(planes, _("phase (0 full, 0.5 half)")),
               _("Trained on full and half moons only (first seed): each model's 2-D code plane decoded on a "
                 "{grid}×{grid} grid (the codes' mean ± 2.5 std), with the codes m of {real} fresh full and half "
                 "moons on top, coloured by their phase, and the path between the two clusters' mean "
                 "codes.").format(grid=GRID, real=REAL_MOONS),
               _("Two grids of decoded images over the code plane, AE and VAE, with the data's codes as coloured dots."),
               width=900)
    rows = []
    for s in ctx.seeds:
        rows.append([ctx.plan.seed + s] + [per_seed[name][s][what] for what in ("path_moon", "path_new", "band_moon",
                                                                              "band_new") for name, _run in MODELS])
    table(section, _("Full and half moons only, per seed: % of decodes that are moons and new moons (a phase never "
                     "in the data), along the path and over the region between the clusters"),
          [_("seed"), _("path moons AE"), _("path moons VAE"), _("path new AE"), _("path new VAE"),
           _("region moons AE"), _("region moons VAE"), _("region new AE"), _("region new VAE")], rows)
    table(section, _("The fair test (first seed): the VAE as trained, with β = 4, with 3× the epochs, and draws "
                     "from p(x|c) at the path codes; % of decodes"),
          ["VAE", _("path moons"), _("path new moons"), _("region moons"), _("region new moons")],
          [[_("as trained"), vae_m["path_moon"], vae_m["path_new"], vae_m["band_moon"], vae_m["band_new"]]]
          + [[_(what), section.number_of(f"fair_{key}_path_moon"), section.number_of(f"fair_{key}_path_new"),
              section.number_of(f"fair_{key}_band_moon"), section.number_of(f"fair_{key}_band_new")]
             for key, _run, what in FAIR]
          + [[_("a draw x ~ p(x|c)"), section.number_of("fair_draw_moon"), section.number_of("fair_draw_new"), None,
              None]])

    ctx.explore(section, _("the AE and the VAE trained on full and half moons only"), *(run for _n, run in MODELS))
    moon_all_phases.run_part(ctx, section)
    ctx.explore(section, _("the AE and the VAE trained on every phase"), "moon-ae", "moon-vae")
    section.conclusion = conclusion(section.numbers, len(ctx.seeds))
    return section


def _is_new(distances: torch.Tensor, phases: torch.Tensor, q95: float) -> torch.Tensor:
    """(N,) bool: a moon (within q95 of a reference) whose phase lies strictly between NEW_PHASES."""
    return (distances <= q95) & (phases > NEW_PHASES[0]) & (phases < NEW_PHASES[1])


@torch.no_grad()
def measure_pair(model, real_x, real_phases, refs, ref_phases, q95: float, device) -> dict:
    """One model's measures in the pair setting (percentages, and the path's decodes for the figures).

    real_x: (R, 1, S, S) fresh full and half moons in [0, 1], real_phases (R,); the path runs from
    the full moons' mean code to the half moons' (PATH_STEPS codes), the band is BAND_STEPS² codes
    along it and ±BAND_SPREAD standard deviations (of the codes about the path's line) across it.
    """
    codes = model.encode(real_x)[0]                                           # (R, 2)
    full, half = real_phases.to(codes.device) < 0.25, real_phases.to(codes.device) >= 0.25
    a, b = codes[full].mean(0), codes[half].mean(0)
    t = torch.linspace(0, 1, PATH_STEPS, device=codes.device)[:, None]
    path_x = model.decode(a * (1 - t) + b * t).mean.cpu()                     # (PATH_STEPS, 1, S, S)
    path_d, path_i = nearest_images(path_x, refs)
    band = band_codes(a, b, codes)
    band_x = model.decode(band).mean.cpu()
    band_d, band_i = nearest_images(band_x, refs)
    pct = lambda mask: 100 * mask.float().mean().item()                      # noqa: E731
    return {"path_d": path_d.mean().item(), "path_moon": pct(path_d <= q95),
            "path_new": pct(_is_new(path_d, ref_phases[path_i], q95)),
            "band_moon": pct(band_d <= q95), "band_new": pct(_is_new(band_d, ref_phases[band_i], q95)),
            "path_x": path_x, "path_i": path_i, "path_dist": path_d, "codes": codes, "ends": (a, b)}


def band_codes(a: torch.Tensor, b: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """(BAND_STEPS², 2) codes of the region between the clusters: a + t·(b − a) + s·w·n for t in [0, 1]
    and s in [−1, 1] (BAND_STEPS each), n the unit normal to b − a and w = BAND_SPREAD times the
    standard deviation of ``codes`` (N, 2) along n."""
    axis = b - a
    n = torch.stack([-axis[1], axis[0]]) / axis.norm().clamp_min(1e-12)
    w = BAND_SPREAD * (codes @ n).std()
    t = torch.linspace(0, 1, BAND_STEPS, device=codes.device)
    s = torch.linspace(-1, 1, BAND_STEPS, device=codes.device)
    tt, ss = torch.meshgrid(t, s, indexing="ij")
    return a + tt.reshape(-1, 1) * axis + (ss.reshape(-1, 1) * w) * n


def _count(values_a, values_b, more: float) -> int:
    """In how many seeds values_a exceeds values_b by more than ``more``."""
    return sum(1 for x, y in zip(values_a, values_b) if x is not None and y is not None and x > y + more)


def conclusion(numbers: dict, seeds: int | None = None) -> str:
    """The pair setting's sentences (with counts over the seeds), then the all-phases contrast's."""
    if "pair_band_moon_vae" not in numbers:
        return moon_all_phases.conclusion(numbers)

    def v(key):
        return numbers[key]["value"]

    def per(key):
        return numbers[key].get("seeds") or [v(key)]

    n = seeds or len(per("pair_band_moon_vae"))

    def of(k: int) -> str:      # "2 of 3 seeds"
        return ngettext("{k} of {n} seed", "{k} of {n} seeds", n).format(k=k, n=n)

    out = []
    more = 100 * MORE
    band = _count(per("pair_band_moon_vae"), per("pair_band_moon_ae"), more)
    band_ae = _count(per("pair_band_moon_ae"), per("pair_band_moon_vae"), more)
    bv, ba = v("pair_band_moon_vae"), v("pair_band_moon_ae")
    if band == n:
        out.append(_("Trained on full and half moons only, the VAE's codes between the two clusters decode to moons "
                     "more often than the AE's in {of}: {bv:.0f} % of the region's decodes against {ba:.0f} % "
                     "(means over the seeds).").format(of=of(band), bv=bv, ba=ba))
    elif band_ae == n:
        out.append(_("Unexpectedly, trained on full and half moons only, the AE's codes between the two clusters "
                     "decode to moons more often than the VAE's in {of}: {ba:.0f} % against {bv:.0f} %.").format(
            of=of(band_ae), ba=ba, bv=bv))
    else:
        out.append(_("Trained on full and half moons only, the region between the two clusters decodes to moons "
                     "about as often for both models: {bv:.0f} % for the VAE against {ba:.0f} % for the AE (means; "
                     "the VAE more often by over {more:.0f} points in {of}, the AE in {band_ae}).").format(
            bv=bv, ba=ba, more=more, of=of(band), band_ae=band_ae))
    pv, pa = v("pair_path_moon_vae"), v("pair_path_moon_ae")
    out.append(_("Along the path between the clusters' mean codes, {pv:.0f} % of the VAE's decodes are moons and "
                 "{pa:.0f} % of the AE's (the VAE more often by over {more:.0f} points in {of}).").format(
        pv=pv, pa=pa, more=more, of=of(_count(per("pair_path_moon_vae"), per("pair_path_moon_ae"), more))))
    new_v, new_a = v("pair_path_new_vae"), v("pair_path_new_ae")
    bnew_v, bnew_a = v("pair_band_new_vae"), v("pair_band_new_ae")
    with_new = sum(1 for x in per("pair_path_new_vae") if x is not None and x > 0)
    lo, hi = NEW_PHASES
    if max(new_v, bnew_v) >= 20:
        out.append(_("The VAE's in-between codes do decode to moons of a phase it never saw (between {lo} and {hi}): "
                     "{new_v:.0f} % of its path decodes and {bnew_v:.0f} % of the region's (AE: {new_a:.0f} % and "
                     "{bnew_a:.0f} %); its path has at least one such moon in {of}.").format(
            lo=lo, hi=hi, new_v=new_v, bnew_v=bnew_v, new_a=new_a, bnew_a=bnew_a, of=of(with_new)))
    else:
        out.append(_("But the lecture's in-between moon does not appear: only {new_v:.0f} % of the VAE's path decodes "
                     "and {bnew_v:.0f} % of the region's are moons of a phase the data never had (between {lo} and "
                     "{hi}; AE: {new_a:.0f} % and {bnew_a:.0f} %; real full and half moons are counted so "
                     "{real_new:.0f} % of the time), and its path has one in {of}.").format(
            new_v=new_v, bnew_v=bnew_v, lo=lo, hi=hi, new_a=new_a, bnew_a=bnew_a, real_new=v("pair_real_new"),
            of=of(with_new)))
        out.append(_("Where its decodes are moons they are full or half moons; between the two clusters the decoded "
                     "mean turns from one into the other."))
        fair = [(what, v(f"fair_{key}_path_new"), v(f"fair_{key}_band_new")) for key, _run, what in FAIR]
        # TRANSLATORS: "; " separates the clauses of a list ("with β = 4, 3 % of the path ...; with 3× the epochs, ...")
        tried = _("; ").join(_("with {what}, {path:.0f} % of the path and {region:.0f} % of the region").format(
            what=_(what), path=p, region=b) for what, p, b in fair)
        out.append(_("Given a fair test on the first seed, it still does not: {tried} are new moons; and a draw "
                     "x ~ p(x|c) in place of the mean is a moon at {draw_moon:.0f} % of the path codes "
                     "(mean distance {draw_d:.3f}, against {q95:.3f} for a moon): the "
                     "pixels' independent coin flips scatter it.").format(
            tried=tried, draw_moon=v("fair_draw_moon"), draw_d=v("fair_draw_d"), q95=v("pair_moon_q95")))
    out.append(_("With every phase in the training data (the contrast below):"))
    return sentences(out + [moon_all_phases.conclusion(numbers)])
