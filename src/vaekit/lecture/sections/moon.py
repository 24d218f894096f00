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
from ...viz.codes import Plane, Strip, code_plane_png, path_strips_png
from ..context import number, seeded_number, table
from . import moon_all_phases
from .moon_all_phases import GRID, OFF_MOON_QUANTILE, REAL_MOONS, _grid, _spread_range

NUMBER = 1
ID = "moon"
TITLE = "AE vs VAE: the moon"
CLAIM = (
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
FAIR = (("beta", "moon-pair-vae-beta4", "KL weight β = 4"), ("long", "moon-pair-vae-long", "3× the epochs"))
MORE = 0.05                # "more often": a fraction higher by more than 5 points
METHOD = (
    f"The lecture's own setting: we train a plain AE and a VAE, each with a 2-D code and the same MLP "
    f"(784-256-2), on {PAIR_SPLIT_SIZES['train']:,} generated full and half moons only (28×28; phase uniform "
    f"on [0, {PAIR_WIDTH}] or on 0.5 ± {PAIR_WIDTH}; the centre jittered by up to ±{JITTER:.0%} of the width in x "
    f"and y; lit value 1), nothing in between; Adam at lr 2e-3 annealed to 0, batches of 64. The generator also "
    f"draws clean reference moons on a dense sweep ({SWEEP_PHASES} phases × {SWEEP_OFFSETS ** 2} centre offsets), "
    f"so for any image we measure the RMS pixel distance to the nearest true moon and that moon's phase. "
    f"A decode counts as a moon when it is as close to one as {OFF_MOON_QUANTILE:.0%} of {REAL_MOONS} fresh real "
    f"moons are, and as a new moon when it is a moon whose phase lies between {NEW_PHASES[0]} and "
    f"{NEW_PHASES[1]}, phases the training data never had.\n\n"
    f"We encode the fresh moons and take the mean code m of the full moons and of the half moons. (a) Along the "
    f"straight path between the two we decode {PATH_STEPS} codes and measure each decode's distance and phase, "
    f"the fraction that are moons and the fraction that are new moons. (b) Over the region between the two "
    f"clusters, a {BAND_STEPS}×{BAND_STEPS} grid running along that path and ±{BAND_SPREAD:g} standard deviations "
    f"of the codes across it, the same two fractions. Each model is trained once per seed, and these headline "
    f"measures are the mean over the seeds, each seed's value beside it. (c) A fair test of the claim, on the "
    f"first seed: the VAE again with a KL weight β = 4 (more noise, more overlap), and with 3× the epochs; and "
    f"a draw x ~ p(x|c) at each path code instead of the decoded mean.\n\n"
)


def run(ctx):
    section = ctx.start(sys.modules[__name__])
    size = ctx.train(MODELS[0][1]).model.config.image_shape[-1]
    refs, ref_phases = moon_sweep(size, n_phases=SWEEP_PHASES, n_offsets=SWEEP_OFFSETS)
    real, real_phases = generate_moon_pair(REAL_MOONS, FRESH_SEED, size)    # (R, 1, S, S) uint8, (R,)
    real_x = real.to(ctx.device).float().div(255)
    real_d, real_i = nearest_images(real, refs)
    q95 = torch.quantile(real_d, OFF_MOON_QUANTILE).item()
    number(section, "pair_moon_q95", q95, "RMS pixel distance",
           f"a moon: at most this far from the nearest reference ({OFF_MOON_QUANTILE:.0%} of real full and half moons are)")
    number(section, "pair_real_new", 100 * _is_new(real_d, ref_phases[real_i], q95).float().mean(), "%",
           "real full and half moons counted as new moons (the measure's false alarms)")

    per_seed = {name: [] for name, _ in MODELS}
    shown = {}
    for s in ctx.seeds:
        for name, run_name in MODELS:
            model = ctx.train(run_name, s).model
            m = ctx.remember("moon-pair", [(run_name, s)], lambda: measure_pair(
                model, real_x, real_phases, refs, ref_phases, q95, ctx.device), steps=PATH_STEPS, band=BAND_STEPS)
            per_seed[name].append(m)
            if s == 0:
                shown[name] = (model, m)
    for name, _ in MODELS:
        key = name.lower()
        for what, unit, label in (
                ("path_d", "RMS pixel distance", "path decodes: mean distance to the nearest true moon"),
                ("path_moon", "%", "path decodes that are moons"),
                ("path_new", "%", "path decodes that are new moons (a phase the data never had)"),
                ("band_moon", "%", "decodes of the region between the clusters that are moons"),
                ("band_new", "%", "decodes of the region between the clusters that are new moons")):
            seeded_number(section, f"pair_{what}_{key}", [m[what] for m in per_seed[name]], unit, f"{name}: {label}")

    # (c) the fair test, on the first seed
    vae, vae_m = shown["VAE"]
    for key, run_name, what in FAIR:
        m = ctx.remember("moon-pair", [(run_name, 0)], lambda run_name=run_name: measure_pair(
            ctx.train(run_name).model, real_x, real_phases, refs, ref_phases, q95, ctx.device),
            steps=PATH_STEPS, band=BAND_STEPS)
        for measure in ("path_moon", "path_new", "band_moon", "band_new"):
            number(section, f"fair_{key}_{measure}", m[measure], "%", f"VAE with {what}: {measure.replace('_', ' ')}")
    draws = torch.bernoulli(vae_m["path_x"], generator=torch.Generator().manual_seed(ctx.plan.seed))
    d, i = nearest_images(draws, refs)
    number(section, "fair_draw_moon", 100 * (d <= q95).float().mean(), "%",
           "VAE: draws x ~ p(x|c) at the path codes that are moons")
    number(section, "fair_draw_new", 100 * _is_new(d, ref_phases[i], q95).float().mean(), "%",
           "VAE: draws at the path codes that are new moons")
    number(section, "fair_draw_d", d.mean(), "RMS pixel distance", "VAE: draws' mean distance to the nearest true moon")

    strips = [Strip(name, m["path_x"], refs[m["path_i"]], m["path_dist"], ref_phases[m["path_i"]])
              for name, (_, m) in shown.items()]
    strips.append(Strip("VAE draw", draws, refs[i], d, ref_phases[i]))
    ctx.figure(section, "moon-pair-path", path_strips_png(strips, "Full and half moons only: from the full moons' "
                                                                  "mean code to the half moons'"),
               f"Trained on full and half moons only (first seed). Decodes along the straight path from the full "
               f"moons' mean code to the half moons', AE (top), VAE (middle), and a draw x ~ p(x|c) from the VAE at "
               f"the same codes (bottom). Under each: the nearest true moon, its RMS distance d and its phase φ "
               f"(the data has φ near 0 and near 0.5 only).",
               "Three strips of images decoded along a path in code space, each above the nearest true moon.",
               width=900)
    planes = []
    for name, (model, m) in shown.items():
        lo, hi = _spread_range(m["codes"].cpu())
        with torch.no_grad():
            grid_x = model.decode(_grid(lo, hi).to(ctx.device)).mean.cpu()
        planes.append(Plane(name, grid_x.view(GRID, GRID, *grid_x.shape[1:]), lo, hi, m["codes"].cpu(), real_phases,
                            torch.stack(m["ends"]).cpu()))
    ctx.figure(section, "moon-pair-plane", code_plane_png(planes, "phase (0 full, 0.5 half)"),
               f"Trained on full and half moons only (first seed): each model's 2-D code plane decoded on a "
               f"{GRID}×{GRID} grid (the codes' mean ± 2.5 std), with the codes m of {REAL_MOONS} fresh full and half "
               "moons on top, coloured by their phase, and the path between the two clusters' mean codes.",
               "Two grids of decoded images over the code plane, AE and VAE, with the data's codes as coloured dots.",
               width=900)
    rows = []
    for s in ctx.seeds:
        rows.append([ctx.plan.seed + s] + [per_seed[name][s][what] for what in ("path_moon", "path_new", "band_moon",
                                                                              "band_new") for name, _ in MODELS])
    table(section, "Full and half moons only, per seed: % of decodes that are moons and new moons (a phase never "
                   "in the data), along the path and over the region between the clusters",
          ["seed", "path moons AE", "path moons VAE", "path new AE", "path new VAE", "region moons AE",
           "region moons VAE", "region new AE", "region new VAE"], rows)
    table(section, "The fair test (first seed): the VAE as trained, with β = 4, with 3× the epochs, and draws "
                   "from p(x|c) at the path codes; % of decodes",
          ["VAE", "path moons", "path new moons", "region moons", "region new moons"],
          [["as trained", vae_m["path_moon"], vae_m["path_new"], vae_m["band_moon"], vae_m["band_new"]]]
          + [[what, section.number_of(f"fair_{key}_path_moon"), section.number_of(f"fair_{key}_path_new"),
              section.number_of(f"fair_{key}_band_moon"), section.number_of(f"fair_{key}_band_new")]
             for key, _, what in FAIR]
          + [["a draw x ~ p(x|c)", section.number_of("fair_draw_moon"), section.number_of("fair_draw_new"), None,
              None]])

    ctx.explore(section, "the AE and the VAE trained on full and half moons only", *(run for _, run in MODELS))
    moon_all_phases.run_part(ctx, section)
    ctx.explore(section, "the AE and the VAE trained on every phase", "moon-ae", "moon-vae")
    section.method = METHOD + moon_all_phases.METHOD
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
    of = f"of {n} seed{'s' if n != 1 else ''}"
    out = []
    more = 100 * MORE
    band = _count(per("pair_band_moon_vae"), per("pair_band_moon_ae"), more)
    band_ae = _count(per("pair_band_moon_ae"), per("pair_band_moon_vae"), more)
    bv, ba = v("pair_band_moon_vae"), v("pair_band_moon_ae")
    if band == n:
        out.append(f"Trained on full and half moons only, the VAE's codes between the two clusters decode to moons "
                   f"more often than the AE's in {band} {of}: {bv:.0f} % of the region's decodes against {ba:.0f} % "
                   f"(means over the seeds).")
    elif band_ae == n:
        out.append(f"Unexpectedly, trained on full and half moons only, the AE's codes between the two clusters "
                   f"decode to moons more often than the VAE's in {band_ae} {of}: {ba:.0f} % against {bv:.0f} %.")
    else:
        out.append(f"Trained on full and half moons only, the region between the two clusters decodes to moons "
                   f"about as often for both models: {bv:.0f} % for the VAE against {ba:.0f} % for the AE (means; "
                   f"the VAE more often by over {more:.0f} points in {band} {of}, the AE in {band_ae}).")
    pv, pa = v("pair_path_moon_vae"), v("pair_path_moon_ae")
    out.append(f"Along the path between the clusters' mean codes, {pv:.0f} % of the VAE's decodes are moons and "
               f"{pa:.0f} % of the AE's (the VAE more often by over {more:.0f} points in "
               f"{_count(per('pair_path_moon_vae'), per('pair_path_moon_ae'), more)} {of}).")
    new_v, new_a = v("pair_path_new_vae"), v("pair_path_new_ae")
    bnew_v, bnew_a = v("pair_band_new_vae"), v("pair_band_new_ae")
    with_new = sum(1 for x in per("pair_path_new_vae") if x is not None and x > 0)
    lo, hi = NEW_PHASES
    if max(new_v, bnew_v) >= 20:
        out.append(f"The VAE's in-between codes do decode to moons of a phase it never saw (between {lo} and {hi}): "
                   f"{new_v:.0f} % of its path decodes and {bnew_v:.0f} % of the region's (AE: {new_a:.0f} % and "
                   f"{bnew_a:.0f} %); its path has at least one such moon in {with_new} {of}.")
    else:
        out.append(f"But the lecture's in-between moon does not appear: only {new_v:.0f} % of the VAE's path decodes "
                   f"and {bnew_v:.0f} % of the region's are moons of a phase the data never had (between {lo} and "
                   f"{hi}; AE: {new_a:.0f} % and {bnew_a:.0f} %; real full and half moons are counted so "
                   f"{v('pair_real_new'):.0f} % of the time), and its path has one in {with_new} {of}. Where its "
                   f"decodes are moons they are full or half moons; between the two clusters the decoded mean turns "
                   f"from one into the other.")
        fair = [(what, v(f"fair_{key}_path_new"), v(f"fair_{key}_band_new")) for key, _, what in FAIR]
        tried = "; ".join(f"with {what}, {p:.0f} % of the path and {b:.0f} % of the region" for what, p, b in fair)
        out.append(f"Given a fair test on the first seed, it still does not: {tried} are new moons; and a draw "
                   f"x ~ p(x|c) in place of the mean is a moon at {v('fair_draw_moon'):.0f} % of the path codes "
                   f"(mean distance {v('fair_draw_d'):.3f}, against {v('pair_moon_q95'):.3f} for a moon): the "
                   f"pixels' independent coin flips scatter it.")
    out.append("With every phase in the training data (the contrast below):")
    return " ".join(out) + " " + moon_all_phases.conclusion(numbers)
