"""Section 3's first part in words: the sentences and the verdict drawn from part 1's measured numbers.

``conclusion`` reads only ``Section.numbers`` (what ``mixture_spiral.run_part`` measured, and the
sweep's ``vae_gap`` seeds); the thresholds it judges by are part 1's (``mixture_spiral``).
"""

from __future__ import annotations

import re

from ...i18n import _, ngettext
from .mixture_spiral import MOVED, NOISE, TARGET


def _per_seed(numbers: dict, key: str) -> list[float]:
    """A measure's value in each seed (``seeded_number``), or its one value."""
    entry = numbers[key]
    return [x for x in entry.get("seeds") or [] if x is not None] or [entry["value"]]


def _score_verdict(numbers: dict, ms: list[int]) -> str:
    """Whether the VAE reaches the ceiling (within TARGET) and the best mixture, counted over the seeds."""
    v = {key: entry["value"] for key, entry in numbers.items()}
    gaps = _per_seed(numbers, "vae_gap")
    best = max(ms, key=lambda m: v[f"gmm{m}_gap"])
    mix = v[f"gmm{best}_gap"]
    n, reached, behind = len(gaps), sum(g >= -TARGET for g in gaps), sum(g < mix for g in gaps)
    if reached == n and not behind:
        return ngettext("The VAE comes within {target:g} nats per point of the ceiling and scores at least as well as "
                        "the best mixture (M = {m}) in {n} of {n} seed: here the infinite mixture wins.",
                        "The VAE comes within {target:g} nats per point of the ceiling and scores at least as well as "
                        "the best mixture (M = {m}) in {n} of {n} seeds: here the infinite mixture wins.", n).format(
            target=TARGET, m=best, n=n)
    if behind == n:
        return ngettext("Where the claim still fails: the VAE's score stays {below:.2f} nats per point below the "
                        "ceiling "
                        "(within {target:g} of it in {reached} of {n} seed) and below the best mixture's (M = {m}, "
                        "{mix:.3f} below the ceiling) in {n} of {n} seed, so on this spiral a finite mixture still "
                        "beats the infinite one.",
                        "Where the claim still fails: the VAE's score stays {below:.2f} nats per point below the "
                        "ceiling "
                        "(within {target:g} of it in {reached} of {n} seeds) and below the best mixture's (M = {m}, "
                        "{mix:.3f} below the ceiling) in {n} of {n} seeds, so on this spiral a finite mixture still "
                        "beats the infinite one.", n).format(
            below=-v["vae_gap"], target=TARGET, reached=reached, n=n, m=best, mix=-mix)
    return ngettext("The VAE's score is {below:.2f} nats per point below the ceiling (within {target:g} of it in "
                    "{reached} of {n} seed), below the best mixture's (M = {m}, {mix:.3f} below the ceiling) in "
                    "{behind} of {n} seed.",
                    "The VAE's score is {below:.2f} nats per point below the ceiling (within {target:g} of it in "
                    "{reached} of {n} seeds), below the best mixture's (M = {m}, {mix:.3f} below the ceiling) in "
                    "{behind} of {n} seeds.", n).format(
        below=-v["vae_gap"], target=TARGET, reached=reached, n=n, m=best, mix=-mix, behind=behind)


def conclusion(numbers: dict) -> list[str]:
    """Part 1's sentences, from ``Section.numbers`` ({key: {value, unit, label}})."""
    v = {key: entry["value"] for key, entry in numbers.items()}
    ms = sorted(int(g.group(1)) for g in (re.fullmatch(r"gmm(\d+)_ll", key) for key in v) if g)
    gmm = {m: v[f"gmm{m}_ll"] for m in ms}
    vae = v["vae_ll"]
    # TRANSLATORS: ", " separates the items of a list ("0.52 (M = 1), 0.95 (M = 4), ...")
    listed = _(", ").join("{ll:.2f} (M = {m})".format(ll=gmm[m], m=m) for m in ms)
    out = [_("On the held-out spiral points the mixtures score {listed} nats per point, the VAE with a 1-D latent "
             "{vae:.2f} (its log P(x) = log ∫ P(z) P(x|z) dz summed over {nodes:,} values of z: {vae:.3f}).").format(
        listed=listed, vae=vae, nodes=v["vae_nodes"])]

    first = _per_seed(numbers, "vae_ll")[0]       # the checks are the first seed's
    check = v.get("vae_ll_check")
    if check is not None and abs(first - check) > MOVED:
        out.append(_("The sum has not converged: with {nodes:,} values of z the first seed's score moves by {moved:.3f} "
                     "nats per point.").format(nodes=v["vae_nodes_check"], moved=check - first))
    sampled = v.get("vae_is_ll")
    if sampled is not None:
        out.append(_("Importance sampling with k = {k} samples from q(z|x), the estimate vaekit eval reports for any "
                     "VAE, gives {sampled:.3f} for the first seed, {below:.3f} nats lower: its expectation is a lower "
                     "bound.").format(k=v["vae_is_k"], sampled=sampled, below=first - sampled))

    reached = [m for m in ms if gmm[m] >= vae]    # the mixtures at least as good as the VAE
    if not reached:
        out.append(_("The VAE beats every mixture tried, even M = {m} (by {by:.2f} nats): "
                     "its one continuous code does what more components than these would take.").format(
            m=ms[-1], by=vae - gmm[ms[-1]]))
    elif reached[0] == ms[0]:
        out.append(_("Unexpectedly, even the smallest mixture, M = {m}, scores at least as well as the VAE "
                     "({gmm:.2f} vs {vae:.2f}): the VAE has not learned the spiral (too little training, "
                     "or a code it does not use).").format(m=ms[0], gmm=gmm[ms[0]], vae=vae))
    else:
        m_match = reached[0]                                  # the fewest components that reach the VAE
        m_under = max(m for m in ms if m < m_match)           # every smaller mixture is below it
        out.append(_("The VAE lies between the mixtures with M = {m_under} ({ll_under:.2f}) and "
                     "M = {m_match} ({ll_match:.2f}): a finite mixture needs about {m_match} components to "
                     "match one infinite mixture with a 1-D code.").format(
            m_under=m_under, ll_under=gmm[m_under], m_match=m_match, ll_match=gmm[m_match]))

    noise = v.get("noise_std")
    if "vae_coverage" in v:
        dist, dists = v["vae_coverage"], _per_seed(numbers, "vae_coverage")
        n, close = len(dists), sum(d < noise for d in dists)
        if dist > 2 * noise:
            out.append(ngettext("The VAE's decoded means μ(z) do not run along the spiral: a point of the spiral is on "
                                "average {dist:.3f} from the nearest of them, more than twice the data's noise "
                                "σ = {noise:.2f} (closer than σ in {close} of {n} seed).",
                                "The VAE's decoded means μ(z) do not run along the spiral: a point of the spiral is on "
                                "average {dist:.3f} from the nearest of them, more than twice the data's noise "
                                "σ = {noise:.2f} (closer than σ in {close} of {n} seeds).", n).format(
                dist=dist, noise=noise, close=close, n=n))
            out.append(_("Its one-dimensional code has not unrolled the spiral; the decoder's "
                         "variance covers the arms it misses, which costs likelihood."))
        else:
            out.append(ngettext("The VAE's decoded means μ(z) run along the spiral: a point of the spiral is on "
                                "average "
                                "{dist:.3f} from the nearest of them (noise σ = {noise:.2f}; closer than σ in {close} "
                                "of "
                                "{n} seed), one Gaussian for each point of the curve.",
                                "The VAE's decoded means μ(z) run along the spiral: a point of the spiral is on "
                                "average "
                                "{dist:.3f} from the nearest of them (noise σ = {noise:.2f}; closer than σ in {close} "
                                "of "
                                "{n} seeds), one Gaussian for each point of the curve.", n).format(
                dist=dist, noise=noise, close=close, n=n))

    if "vae_plain_ll" in v:
        dist, dists = v["vae_plain_coverage"], _per_seed(numbers, "vae_plain_coverage")
        n, across = len(dists), sum(d > 2 * noise for d in dists)
        if across:
            out.append(ngettext("It took annealing the decoder's variance: the same VAE trained by the plain ELBO from "
                                "a "
                                "single random start scores {plain:.2f}, and its decoded curve is on average "
                                "{dist:.3f} "
                                "from the spiral, more than twice σ in {across} of {n} seed: it cuts across the arms, "
                                "its variance covering them, a local optimum.",
                                "It took annealing the decoder's variance: the same VAE trained by the plain ELBO from "
                                "a "
                                "single random start scores {plain:.2f}, and its decoded curve is on average "
                                "{dist:.3f} "
                                "from the spiral, more than twice σ in {across} of {n} seeds: it cuts across the arms, "
                                "its variance covering them, a local optimum.", n).format(
                plain=v["vae_plain_ll"], dist=dist, across=across, n=n))
        else:
            out.append(ngettext("The same VAE trained by the plain ELBO from a single random start scores {plain:.2f}, "
                                "and its decoded curve is on average {dist:.3f} from the spiral, within twice σ in "
                                "{n} of {n} seed: here it did not need the annealing.",
                                "The same VAE trained by the plain ELBO from a single random start scores {plain:.2f}, "
                                "and its decoded curve is on average {dist:.3f} from the spiral, within twice σ in "
                                "{n} of {n} seeds: here it did not need the annealing.", n).format(
                plain=v["vae_plain_ll"], dist=dist, n=n))
        if v.get("vae_seconds") and v.get("vae_plain_seconds"):
            out.append(_("The annealed training takes {ratio:.1f} times as long ({seconds:.0f} s against {plain:.0f} s "
                         "per seed, on one thread).").format(ratio=v["vae_seconds"] / v["vae_plain_seconds"],
                                                            seconds=v["vae_seconds"], plain=v["vae_plain_seconds"]))

    ceiling, se = v["true_ll"], v["true_se"]
    models = [(f"gmm{m}", _("the mixture with M = {m}").format(m=m), v[f"gmm{m}_gap"], v[f"gmm{m}_gap_se"])
              for m in ms]
    models.append(("vae", _("the VAE"), v["vae_gap"], v["vae_gap_se"]))
    best_key, best_name, best_gap, best_gap_se = max(models, key=lambda t: t[2])

    def where(gap: float) -> str:
        return (_("{gap:.3f} nats below it") if gap <= 0 else _("{gap:.3f} nats above it")).format(gap=abs(gap))

    if best_key == "vae":
        text = _("The true density scores {ceiling:.2f} ± {se:.2f} nats per point, the ceiling; the closest model, "
                 "{name}, is {where} (paired standard error {gap_se:.3f}).")
    else:
        text = _("The true density scores {ceiling:.2f} ± {se:.2f} nats per point, the ceiling; the closest model, "
                 "{name}, is {where} (paired standard error {gap_se:.3f}) and the VAE {vae_where}.")
    out.append(text.format(ceiling=ceiling, se=se, name=best_name, where=where(best_gap), gap_se=best_gap_se,
                           vae_where=where(v["vae_gap"])))
    over = [(name, gap, gse) for _key, name, gap, gse in models if gap > NOISE * gse]
    if over:
        text = _("; ").join(_("{name} scores above the true density by {gap:.3f} nats, {ses:.1f} standard "
                              "errors").format(name=name, gap=gap, ses=gap / gse) for name, gap, gse in over)
        out.append(_("{clauses}: no model can beat the true density on average, so this is a bug "
                     "(in the model's or the true density's log-likelihood) or an unlucky test set.").format(
            clauses=text[0].upper() + text[1:]))
    else:
        out.append(_("No model exceeds the ceiling beyond noise (more than {noise:g} paired standard errors), as it "
                     "must be.").format(noise=NOISE))
    out.append(_score_verdict(numbers, ms))
    mass = v.get("mass_vae")
    if mass is not None and mass > 1.05:
        out.append(_("The VAE's density integrates to {mass:.2f} over the square, more than 1: a sign of an error in "
                     "its log-likelihood.").format(mass=mass))
    return out
