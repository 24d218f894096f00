"""Section 1's contrast: the moon with every phase in the training data (``moons``).

Runs: ``moon-ae`` and ``moon-vae`` (plan.py), a plain autoencoder and a VAE with a 2-D code,
trained on the generated ``moons`` (Bernoulli p(x|z)), whose phases run continuously from full
to crescent.  ``run_part`` adds its numbers, figures and table to section 1 (``moon``), which
first runs the lecture's own setting (full and half moons only); ``conclusion`` words them.
The answer is known for every image: ``eval.nearest.nearest_images`` against
``data.moons.moon_sweep`` is the RMS pixel distance from an image to the nearest clean moon of
a dense phase sweep, and that moon's phase says which moon the image is.
"""

from __future__ import annotations

import torch

from ...data.moons import PHASE_MAX, SPLIT_SIZES, generate_moons, moon_sweep, render_moons
from ...eval.nearest import nearest_images
from ...i18n import _, sentences
from ...viz.codes import Plane, Strip, code_plane_png, path_curves_png, path_strips_png
from ..context import number, table

SWEEP_PHASES = 64      # reference phases on [0, PHASE_MAX] (steps of 0.013), each at 3 × 3 centre offsets
PATH_STEPS = 12        # decodes along the path, both ends included
ENDS = (0.0, 0.5)      # the path's end images: a clean full moon and a clean half moon
GRID = 15              # the code plane is decoded on GRID × GRID codes
MARGIN = 0.05          # the old grid spans the range of the model's data codes, widened by 5 % on each side
SPREAD = 2.5           # the shown grid spans the codes' mean ± 2.5 std per dimension
REAL_MOONS = 400       # fresh moons: their codes are shown, and their distances say what a real moon scores
FRESH_SEED = 4         # the generator seed of the fresh moons (the splits use 1, 2, 3)
OFF_MOON_QUANTILE = 0.95   # "no moon": farther from every reference than 95 % of real moons are
PHASE_BACK = 0.05      # a step along the path whose nearest phase falls by more than this goes back
PHASE_JUMP = 0.15      # a step whose nearest phase rises by more than this jumps (equal steps: 0.045)
TIE = 0.05             # mean distances within 5 % of each other are reported as equal (seed-to-seed spread)


def method() -> str:
    """How the contrast is measured (one paragraph)."""
    return _(
        "The contrast, with every phase in the data: the same AE and VAE trained on {n_train:,} "
        "generated moon images (28×28; phase uniform on [0, {phase_max}], where 0 is full, 0.5 half and "
        "{phase_max} a thin crescent; lit value 1; the centre jittered by up to ±5 % of the width in x and y), trained "
        "with Adam at lr 2e-3 annealed to 0 (cosine), batches of 64. The generator also draws clean "
        "reference moons on a dense sweep ({phases} phases × 9 centre offsets), so for any image we "
        "can measure how far it is from the nearest true moon (RMS pixel distance, pixels in [0, 1]) and "
        "which phase that moon has. "
        "(a) We encode a clean full moon and a clean half moon, take the straight line between their codes "
        "m and decode {steps} evenly spaced codes on it, for each model (the first seed's runs). (b) We draw {real} "
        "fresh moons (a generator seed none of the splits uses), decode a {grid}×{grid} grid spanning their codes' "
        "mean ± {spread} standard deviations per dimension in each model's plane (one rule for both: the AE's codes "
        "are not on the prior's scale; we also report the grid over the codes' range widened by {margin:.0%}), and "
        "overlay those codes m, coloured by the moons' true phase. (c) For every decode we "
        "measure the distance to the nearest true moon and average it along the path and over the grid. "
        "For scale, the fresh moons themselves, jitter included, are scored the same way; a decode farther "
        "from every reference than {quantile:.0%} of real moons counts as no moon. Along the path "
        "we also follow the phase of the nearest true moon: in-between codes decoding to in-between phases "
        "means that phase rises from full to half without going back (no step back by more than "
        "{back}, no jump of more than {jump} in one step).").format(
        n_train=SPLIT_SIZES["train"], phase_max=PHASE_MAX, phases=SWEEP_PHASES, steps=PATH_STEPS, real=REAL_MOONS,
        grid=GRID, spread=SPREAD, margin=MARGIN, quantile=OFF_MOON_QUANTILE, back=PHASE_BACK, jump=PHASE_JUMP)


def run_part(ctx, section) -> None:
    """The all-phases runs' numbers, figures and path table, added to ``section``."""
    models = {"AE": ctx.train("moon-ae").model, "VAE": ctx.train("moon-vae").model}
    size = models["VAE"].config.image_shape[1]
    refs, ref_phases = moon_sweep(size, n_phases=SWEEP_PHASES)
    real, real_phases = generate_moons(REAL_MOONS, FRESH_SEED, size)    # (R, 1, S, S) uint8, (R,)
    ends = render_moons(torch.tensor(ENDS), size).to(ctx.device)       # (2, 1, S, S) full, half
    real_x = real.to(ctx.device).float().div(255)

    floor_d = nearest_images(real, refs)[0]
    floor, off_moon = floor_d.median().item(), torch.quantile(floor_d, OFF_MOON_QUANTILE).item()
    number(section, "moon_median", floor, _("RMS pixel distance"),
           _("a real (fresh, jittered) moon to the nearest reference (median)"))
    number(section, "moon_q95", off_moon, _("RMS pixel distance"),
           _("threshold for 'no moon': {quantile:.0%} of real moons are closer").format(quantile=OFF_MOON_QUANTILE))

    t = torch.linspace(0, 1, PATH_STEPS)
    strips, planes = [], []
    for name, model in models.items():
        with torch.no_grad():
            m_ends = model.encode(ends)[0]                             # (2, 2) codes of full, half
            path = m_ends[0] * (1 - t[:, None].to(ctx.device)) + m_ends[1] * t[:, None].to(ctx.device)
            path_x = model.decode(path).mean.cpu()                     # (S, 1, H, W)
            codes = model.encode(real_x)[0].cpu()                      # (R, 2)
            lo, hi = _spread_range(codes)
            grid_x = model.decode(_grid(lo, hi).to(ctx.device)).mean.cpu()
            range_x = model.decode(_grid(*_grid_range(codes)).to(ctx.device)).mean.cpu()
        d_range = nearest_images(range_x, refs)[0]
        d_path, i_path = nearest_images(path_x, refs)
        d_grid = nearest_images(grid_x, refs)[0]
        phases = ref_phases[i_path]
        steps = phases.diff()
        key = name.lower()
        rms, phase = _("RMS pixel distance"), _("phase")
        number(section, f"path_{key}", d_path.mean(), rms,
               _("{model}: decodes along the path, mean distance to the nearest true moon").format(model=name))
        number(section, f"grid_{key}", d_grid.mean(), rms,
               _("{model}: decodes of the {grid}×{grid} code grid, mean distance to the nearest true moon").format(
                   model=name, grid=GRID))
        number(section, f"grid_range_{key}", d_range.mean(), rms,
               _("{model}: decodes of a {grid}×{grid} grid over the codes' range (+{margin:.0%}), mean "
                 "distance").format(model=name, grid=GRID, margin=MARGIN))
        number(section, f"path_max_{key}", d_path.max(), rms,
               _("{model}: the path decode farthest from any true moon").format(model=name))
        number(section, f"offmoon_path_{key}", 100 * (d_path > off_moon).float().mean(), "%",
               _("{model}: path decodes that are no moon").format(model=name))
        number(section, f"offmoon_grid_{key}", 100 * (d_grid > off_moon).float().mean(), "%",
               _("{model}: grid decodes that are no moon").format(model=name))
        number(section, f"phase_first_{key}", phases[0], phase,
               _("{model}: nearest true moon's phase at the full moon's code").format(model=name))
        number(section, f"phase_last_{key}", phases[-1], phase,
               _("{model}: nearest true moon's phase at the half moon's code").format(model=name))
        number(section, f"phase_back_{key}", int((steps < -PHASE_BACK).sum()), _("steps"),
               _("{model}: steps along the path where the nearest phase falls by more than {back}").format(
                   model=name, back=PHASE_BACK))
        number(section, f"phase_jump_{key}", steps.max(), phase,
               _("{model}: largest rise of the nearest phase in one step").format(model=name))
        strips.append(Strip(name, path_x, refs[i_path], d_path, phases))
        planes.append(Plane(name, grid_x.view(GRID, GRID, *grid_x.shape[1:]), lo, hi, codes, real_phases,
                            m_ends.cpu()))
    ratios = {"path": _("AE's mean distance over the VAE's (path)"), "grid": _("AE's mean distance over the VAE's (grid)")}
    for what, label in ratios.items():
        ratio = section.number_of(f"{what}_ae") / max(section.number_of(f"{what}_vae"), 1e-12)
        number(section, f"{what}_ratio", ratio, "×", label)

    ctx.figure(section, "moon-path",
               path_strips_png(strips, _("Every phase in the data: from the full moon's code m to the half moon's")),
               _("Every phase in the training data. Decodes along the straight line from a clean full moon's code to "
                 "a clean half moon's code, AE (top) and VAE (bottom). Under each decode: the nearest true moon of "
                 "the reference sweep, its RMS distance d (pixels in [0, 1]) and its phase φ (0 full, 0.5 half)."),
               _("Two strips of moon images decoded along a path in code space, each above the nearest true moon."),
               width=900)
    ctx.figure(section, "moon-path-distance", path_curves_png(t, strips, floor),
               _("Left: distance from each path decode to the nearest true moon; the dashed line is what a real "
                 "(fresh, jittered) moon scores (median). Right: the phase of that nearest moon along the path."),
               _("Two line plots: distance to the nearest true moon and its phase along the path, AE and VAE."),
               width=800)
    ctx.figure(section, "moon-plane", code_plane_png(planes, _("phase (0 full, 0.5 half)")),
               _("Every phase in the training data. Each model's 2-D code plane decoded on a {grid}×{grid} grid, "
                 "with the codes m of {real} fresh moons on top, coloured by their true phase, and the path from the "
                 "full moon's code (circle) to the half moon's (square).").format(grid=GRID, real=REAL_MOONS),
               _("Two grids of decoded images over the code plane, AE and VAE, with the data's codes as coloured dots."),
               width=900)
    rows = [[f"{t[i]:.2f}", strips[0].distances[i].item(), strips[0].phases[i].item(),
             strips[1].distances[i].item(), strips[1].phases[i].item()] for i in range(PATH_STEPS)]
    table(section, _("Every phase in the data: along the path from a full moon's code to a half moon's, the distance "
                     "to the nearest true moon (RMS, pixels in [0, 1]) and its phase"),
          ["t", _("AE distance"), _("AE phase"), _("VAE distance"), _("VAE phase")], rows)


def _spread_range(codes: torch.Tensor) -> tuple[tuple[float, float], tuple[float, float]]:
    """(lo, hi) per axis of the shown grid: the codes' (N, 2) mean ± SPREAD standard deviations."""
    mean, std = codes.mean(0), codes.std(0)
    return tuple((mean - SPREAD * std).tolist()), tuple((mean + SPREAD * std).tolist())


def _grid(lo, hi) -> torch.Tensor:
    """(GRID², 2) codes of a GRID × GRID grid over [lo, hi] per axis; row i of the picture is y = ys[i]."""
    xs, ys = (torch.linspace(lo[k], hi[k], GRID) for k in (0, 1))
    zy, zx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([zx.reshape(-1), zy.reshape(-1)], 1)


def _grid_range(codes: torch.Tensor) -> tuple[tuple[float, float], tuple[float, float]]:
    """(lo, hi) per axis of the decoded grid: the codes' (N, 2) range, widened by MARGIN each side."""
    low, high = codes.min(0).values, codes.max(0).values
    pad = MARGIN * (high - low)
    return tuple((low - pad).tolist()), tuple((high + pad).tolist())


def _compare(vae: float, ae: float) -> str:
    """"vae" if the VAE's mean distance is lower by more than TIE (relative), "ae" if the AE's is, else "tie"."""
    if vae < ae * (1 - TIE):
        return "vae"
    if ae < vae * (1 - TIE):
        return "ae"
    return "tie"


def conclusion(numbers: dict) -> str:
    """Sentences from the measured numbers ({key: {"value": ...}}), saying what they show.

    Two mean distances within TIE (relative) of each other are called equal: a 12-step path's
    mean moves by about that much from seed to seed."""
    def v(key):
        return numbers[key]["value"]

    pa, pv, ga, gv, real = v("path_ae"), v("path_vae"), v("grid_ae"), v("grid_vae"), v("moon_median")
    out = []
    path = _compare(pv, pa)
    if path == "vae":
        out.append(_("Along the path from the full moon's code to the half moon's, the VAE's decodes stay closer "
                     "to a true moon than the AE's: {pv:.3f} against {pa:.3f} RMS on average, the AE "
                     "{ratio:.1f}× farther (a real, jittered moon scores {real:.3f}).").format(
            pv=pv, pa=pa, ratio=pa / max(pv, 1e-12), real=real))
    elif path == "ae":
        out.append(_("Unexpectedly, the AE's path decodes are closer to a true moon than the VAE's: "
                     "{pa:.3f} against {pv:.3f} RMS on average (a real, jittered moon scores {real:.3f}).").format(
            pa=pa, pv=pv, real=real))
    else:
        out.append(_("Along the path from the full moon's code to the half moon's, the two models' decodes are "
                     "about equally far from a true moon: {pv:.3f} for the VAE against {pa:.3f} for the AE, within "
                     "{tie:.0%} of each other (a real, jittered moon scores {real:.3f}); the lecture's contrast "
                     "does not show on this path.").format(pv=pv, pa=pa, tie=TIE, real=real))
    oa, ov = v("offmoon_grid_ae"), v("offmoon_grid_vae")
    grid = _compare(gv, ga)
    if grid == "vae":
        out.append(_("Over the code plane (mean ± {spread} std of each model's codes) the VAE's decodes are closer: "
                     "{gv:.3f} for the VAE against {ga:.3f} for the AE; {oa:.0f} % of the AE's grid decodes are no "
                     "moon, {ov:.0f} % of the VAE's.").format(spread=SPREAD, gv=gv, ga=ga, oa=oa, ov=ov))
    elif grid == "ae":
        out.append(_("Over the code plane (mean ± {spread} std of each model's codes) the VAE's decodes are farther "
                     "from a moon: {gv:.3f} against {ga:.3f} for the AE ({ov:.0f} % vs {oa:.0f} % no moon).").format(
            spread=SPREAD, gv=gv, ga=ga, ov=ov, oa=oa))
    else:
        out.append(_("Over the code plane (mean ± {spread} std of each model's codes) the two are about equally far "
                     "from a moon: {gv:.3f} for the VAE against {ga:.3f} for the AE ({ov:.0f} % vs {oa:.0f} % no "
                     "moon).").format(spread=SPREAD, gv=gv, ga=ga, ov=ov, oa=oa))
    if "grid_range_ae" in numbers:
        ra, rv = v("grid_range_ae"), v("grid_range_vae")
        verdict = {"vae": _("the VAE closer"), "ae": _("the AE closer"), "tie": _("about equal")}[_compare(rv, ra)]
        out.append(_("On the grid over the codes' full range the VAE scores {rv:.3f} and the AE {ra:.3f} "
                     "({verdict}).").format(rv=rv, ra=ra, verdict=verdict))
    phases = {k: (v(f"phase_first_{k}"), v(f"phase_last_{k}"), v(f"phase_back_{k}"), v(f"phase_jump_{k}"))
              for k in ("ae", "vae")}
    ordered = {k: back == 0 and jump <= PHASE_JUMP for k, (_first, _last, back, jump) in phases.items()}
    first, last, back, jump = phases["vae"]
    if ordered["vae"]:
        out.append(_("The nearest true moon's phase rises along the VAE's path from {first:.2f} to {last:.2f} "
                     "without going back (largest step {jump:.2f}): its in-between codes decode to in-between "
                     "phases.").format(first=first, last=last, jump=jump))
    else:
        out.append(_("The VAE's path does not pass through the phases strictly in order: the nearest moon's phase "
                     "goes from {first:.2f} to {last:.2f} with {back} step(s) back and a largest step of "
                     "{jump:.2f}.").format(first=first, last=last, back=back, jump=jump))
    first, last, back, jump = phases["ae"]
    if not ordered["ae"]:
        out.append(_("The AE's does not ({back} step(s) back, largest step {jump:.2f}).").format(back=back, jump=jump))
    elif path == "vae":
        text = (_("The AE's nearest phases are in order too (largest step {jump:.2f}), but its decodes are "
                  "farther from being moons (the worst is {worst_ae:.3f} from any true moon, the "
                  "VAE's worst {worst_vae:.3f}).") if ordered["vae"] else
                _("The AE's nearest phases are in order (largest step {jump:.2f}), but its decodes are "
                  "farther from being moons (the worst is {worst_ae:.3f} from any true moon, the "
                  "VAE's worst {worst_vae:.3f})."))
        out.append(text.format(jump=jump, worst_ae=v("path_max_ae"), worst_vae=v("path_max_vae")))
    else:
        text = (_("The AE's nearest phases are in order too (largest step {jump:.2f}): on these data, where "
                  "the training set holds every phase from full to crescent, the AE's codes are ordered by "
                  "phase as well, and this path crosses no gap for the VAE's noise to fill.") if ordered["vae"] else
                _("The AE's nearest phases are in order (largest step {jump:.2f}): on these data, where "
                  "the training set holds every phase from full to crescent, the AE's codes are ordered by "
                  "phase as well, and this path crosses no gap for the VAE's noise to fill."))
        out.append(text.format(jump=jump))
    return sentences(out)
