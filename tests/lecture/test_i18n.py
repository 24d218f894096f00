"""The lecture page's languages: the catalogs against the code, the language switch, and the real
`--lang zh-TW` report (page and figures) checked for English left untranslated."""

import importlib.util
import re
import threading
from collections import Counter

import pytest

from vaekit.errors import ConfigError
from vaekit.i18n import LANGUAGES, _, current, language, ngettext, sentences, translations
from vaekit.lecture.plan import Plan
from conftest import REPO
from lecture.english import english_in, english_words, page_text


def _catalogs():
    """scripts/catalogs.py, the one place that knows how the catalogs are made."""
    spec = importlib.util.spec_from_file_location("catalogs", REPO / "scripts" / "catalogs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogs = _catalogs()


# ---------------------------------------------------------------- the catalogs

def test_the_template_holds_every_message_the_code_marks_and_no_other():
    """Babel's extraction over the code and the template (babel.cfg) against the committed vaekit.pot."""
    assert catalogs.template_problems() == []


def test_the_extraction_finds_the_messages_of_each_kind_of_source():
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogs.extract() if m.id}
    assert "AE vs VAE: the moon" in ids                            # N_ on a section's constant
    assert "{model}: decodes along the path, mean distance to the nearest true moon" in ids   # _().format
    assert "{k} of {n} seed" in ids                                # ngettext
    assert "Is each decode a moon?" in ids                          # a figure's title (vaekit.viz)
    assert "The lecture's symbols in the code" in ids               # the template's _()
    assert any(i.startswith("The lecture writes c = m + exp(σ)·e") for i in ids)   # a {% trans %} block
    assert len(ids) > 400


@pytest.mark.parametrize("language_dir", catalogs.languages())
def test_every_message_is_translated_with_its_placeholders(language_dir):
    """Every message of the .pot has a non-empty, non-fuzzy translation with exactly its {fields} and
    %(fields)s, and the .po holds no other message."""
    assert catalogs.translation_problems(language_dir) == []


@pytest.mark.parametrize("language_dir", catalogs.languages())
def test_the_committed_mo_is_compiled_from_the_po(language_dir):
    assert catalogs.compiled_problems(language_dir) == []


def test_there_is_a_catalog_for_every_translated_language():
    assert catalogs.languages() == ["zh_TW"] and LANGUAGES == ("en", "zh-TW")


def test_the_chinese_translations_hold_no_english():
    """Each translation, its placeholders and <code> spans taken out, has no English word but symbols."""
    from babel.messages.pofile import read_po

    with open(catalogs.po_path("zh_TW"), "rb") as f:
        catalog = read_po(f)
    left = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        for s in strings:
            bare = re.sub(r"<code>.*?</code>|<[^>]+>|\{[^{}]*\}|%\(\w+\)[sd]", " ", s)
            if english_words(bare):
                left.append((english_words(bare), s))
    assert left == []


# ---------------------------------------------------------------- the language switch

def test_english_is_the_message_itself_and_chinese_comes_from_the_catalog():
    assert current() == "en" and _("yes") == "yes" and _("") == ""
    with language("zh-TW") as lang:
        assert lang == "zh-TW" == current()
        assert _("yes") == "是" and _("") == ""                     # "" is the catalog's header in gettext
        assert _("{model}: {label}").format(model="VAE", label="x") == "VAE：x"
        assert ngettext("{k} of {n} seed", "{k} of {n} seeds", 3).format(k=2, n=3) == "3 個種子中有 2 個"
        with language("en"):
            assert _("yes") == "yes"
        assert _("yes") == "是"
    assert current() == "en"


def test_an_unknown_language_is_refused_before_anything_changes():
    with pytest.raises(ValueError, match="unknown language 'fr'; expected one of en, zh-TW"):
        with language("fr"):
            pass
    assert current() == "en"
    with pytest.raises(ConfigError, match="lang must be one of en, zh-TW; got 'zh'"):
        Plan(lang="zh")


def test_each_thread_has_its_own_language():
    seen = {}
    with language("zh-TW"):
        thread = threading.Thread(target=lambda: seen.update(lang=current(), yes=_("yes")))
        thread.start()
        thread.join()
        assert _("yes") == "是"
    assert seen == {"lang": "en", "yes": "yes"}


def test_sentences_are_joined_as_the_language_joins_them():
    assert sentences(["One.", "Two."]) == "One. Two."
    with language("zh-TW"):
        assert sentences(["一。", "二。"]) == "一。二。"


def test_the_language_is_a_setting_of_the_page_not_of_the_runs():
    english, chinese = Plan(quick=True), Plan(quick=True, lang="zh-TW")
    assert chinese.runs() == english.runs()                         # the same runs, so the same cache ids
    assert english.settings()["lang"] == "en" and chinese.settings()["lang"] == "zh-TW"
    assert translations("zh-TW") is translations("zh-TW")          # read once


def test_without_a_cjk_font_the_cli_warns_once(tmp_path, monkeypatch, capsys):
    """No CJK font: one warning line on stderr (here before the bad --data stops the command, exit 2)."""
    from vaekit.cli.main import main
    from vaekit.viz import figure

    monkeypatch.setattr(figure, "cjk_font", lambda: None)
    monkeypatch.setenv("VAEKIT_KEEP_FREED_MEMORY", "0")
    code = main(["lecture", "--lang", "zh-TW", "--data", "no-such-data", "--out", str(tmp_path / "r"), "--quick"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 2
    assert err[0].startswith("vaekit: warning: no CJK font found for the figures' zh-TW labels")
    assert "apt-get install fonts-noto-cjk" in err[0] and "unknown dataset 'no-such-data'" in err[1]
    with figure.language_fonts("zh-TW") as font:                     # and the figures keep the default font
        assert font is None


# ---------------------------------------------------------------- the real report in Chinese

def test_the_chinese_report_reuses_the_runs_and_measures_the_same(quick_report, quick_report_zh):
    _out, _proc, english = quick_report
    chinese = quick_report_zh["summary"]
    assert chinese["settings"] == {**english["settings"], "lang": "zh-TW"}
    assert "0 run(s) trained" in quick_report_zh["stdout"] and quick_report_zh["stderr"] == ""
    lines = [line for line in quick_report_zh["stdout"].splitlines() if line[:2] in {f"{i}." for i in range(1, 6)}]
    assert len(lines) == 5 and all(line.endswith("。") for line in lines)      # each with its first sentence
    for en, zh in zip(english["sections"], chinese["sections"]):
        assert zh["id"] == en["id"] and zh["runs"] == en["runs"]
        assert zh["numbers"].keys() == en["numbers"].keys()
        for key, number in en["numbers"].items():              # the language changes words, never numbers
            assert zh["numbers"][key]["value"] == pytest.approx(number["value"], rel=1e-6, abs=1e-9), (en["id"], key)
        assert zh["title"] != en["title"] and zh["conclusion"] != en["conclusion"]
        assert [len(t["rows"]) for t in zh["tables"]] == [len(t["rows"]) for t in en["tables"]]
    # its own figures (each has words), the English report's removed from this folder by the usual clean-up
    shown = {f["file"] for s in chinese["sections"] for f in s["figures"]}
    assert shown.isdisjoint(f["file"] for s in english["sections"] for f in s["figures"])
    assert {f"figures/{p.name}" for p in (quick_report_zh["out"] / "figures").iterdir()} == shown


def test_the_chinese_page_shows_no_english(quick_report_zh):
    """Every piece of text a reader sees (outside <code>), and every alt text, is free of English words."""
    html = (quick_report_zh["out"] / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hant-TW">' in html
    pieces = page_text(html)
    assert len(pieces) > 500
    assert english_in(pieces) == []


def test_the_chinese_figures_show_no_english(quick_report_zh):
    """The texts of every figure the report drew (titles, axis labels, ticks, legends, notes)."""
    texts = quick_report_zh["figure_texts"]
    assert len(texts) == sum(len(s["figures"]) for s in quick_report_zh["summary"]["sections"])
    assert all(any(re.search(r"[\u4e00-\u9fff]", t) for t in figure) for figure in texts)   # each has Chinese
    assert [english_in(figure) for figure in texts if english_in(figure)] == []


def test_the_english_page_is_english(quick_report):
    """The check above is not blind: it finds the English page full of English."""
    out, _proc, _summary = quick_report
    assert len(english_in(page_text((out / "index.html").read_text(encoding="utf-8")))) > 300


# ---------------------------------------------------------------- every conclusion branch, in Chinese

def _branches():
    """(section, the measured numbers) of every branch the sections' own conclusion tests reach."""
    from lecture import test_bound, test_mixture, test_moon, test_problems, test_variance
    from vaekit.lecture.sections import bound, mixture, moon, moon_all_phases, problems, variance

    m, v, x, b, p = test_moon, test_variance, test_mixture, test_bound, test_problems
    blend = dict(blend_median_test=0.09, blend_median_recon=0.072, blend_closer=54.0, blend_k=10)
    gaps = {1: -0.7, 4: -0.5, 16: 0.02, 64: -0.01}
    return {
        "moon": (moon_all_phases.conclusion, [
            m.numbers(), m.numbers(path_ae=0.06, path_vae=0.09, grid_ae=0.07, grid_vae=0.1, phase_back_vae=1,
                                   phase_jump_vae=0.25, phase_back_ae=0, phase_jump_ae=0.05),
            m.numbers(path_ae=0.065, path_vae=0.064, grid_ae=0.081, grid_vae=0.082),
            m.numbers(phase_back_ae=0, phase_jump_ae=0.06, path_ae=0.08, grid_ae=0.07),
            m.numbers(grid_range_ae=0.05, grid_range_vae=0.04)]),
        "moon-pair": (lambda n: moon.conclusion(n, 3), [
            m.pair_numbers(), m.pair_numbers(pair_band_moon_ae=[70.0, 75.0, 60.0]),
            m.pair_numbers(pair_band_moon_ae=[80.0, 80.0, 80.0]),
            m.pair_numbers(pair_path_new_vae=[30.0, 20.0, 25.0], pair_band_new_vae=[22.0, 20.0, 18.0])]),
        "variance": (variance.conclusion, [
            v._numbers(), v._numbers(mean_exp_sigma_nokl=0.5, recon_nokl=20.0, second_moment_nokl=1.01,
                                     sample_nn_nokl=0.15),
            v._numbers(mean_exp_sigma_nokl=0.1, mse_nokl=0.09)]),
        "mixture": (mixture.conclusion, [
            x._numbers(x.GMM, 1.10), x._numbers({1: 0.6, 4: 0.85}, 1.10), x._numbers(x.GMM, 0.55),
            x._numbers(x.GMM, 1.10, gaps=gaps), x._numbers(x.GMM, 1.1, image=((89.3, 5.99), (105.8, 5.62))),
            x._numbers(x.GMM, 1.1, image=((120.0, 5.0), (105.8, 5.62))),
            x._numbers(x.GMM, 1.1, image=((89.3, 5.99), (105.8, 5.62))) | {
                "image_gmm50_ll": {"value": 81.84}, "image_gmm50_bpd": {"value": 6.15}},
            x._numbers(x.GMM, 0.75, curve_dist=0.12), x._numbers({1: 0.6, 4: 0.85}, 1.2),
            x._numbers(x.GMM, 1.1) | x._sweep_numbers({2: [0.5, 0.6, 0.55], 128: [20.0, 21.0, 22.0]}, {2: 0.01, 128: 0.6}),
            x._numbers(x.GMM, 1.1) | x._sweep_numbers({2: [0.02, 0.01, 0.01], 128: [0.1, 0.2, 0.1]}, {2: 0.01, 128: 0.6}),
            x._numbers(x.GMM, 1.1) | x._sweep_numbers({2: [0.001] * 3, 128: [0.1] * 3}, {2: 0.01, 128: 0.6}),
            x._numbers(x.GMM, 1.1) | x._sweep_numbers({2: [0.19, 0.19, 0.2], 128: [1.8, 2.2, 2.8]},
                                                      {2: 0.012, 128: 0.6},
                                                      curves={2: [0.011, 0.01, 0.012], 128: [0.05, 0.054, 0.063]}),
            x._numbers(x.GMM, 1.1) | x._sweep_numbers({2: [0.5] * 3, 128: [0.7] * 3}, {2: 0.01, 128: 0.6}),
            x._seeded(x._numbers({1: 0.6, 4: 0.85}, 1.13, curve_dist=0.011), vae_plain_ll=[0.73, 0.75],
                      vae_plain_coverage=[0.15, 0.14], vae_seconds=[21.0, 19.0], vae_plain_seconds=[4.0, 4.0],
                      vae_gap=[-0.19, -0.18]),
            x._seeded(x._numbers(x.GMM, 1.30), vae_plain_ll=[1.2], vae_plain_coverage=[0.02], vae_gap=[-0.02],
                      vae_coverage=[0.05]),
            x._seeded(x._numbers(x.GMM, 1.32), vae_gap=[-0.004, -0.003], vae_coverage=[0.01, 0.02]),
            x._seeded(x._numbers(x.GMM, 1.13), vae_ll=[1.149, 1.129, 1.126]) | {"vae_ll_check": {"value": 1.152}}]),
        "bound": (bound.conclusion, [
            b._numbers(), b._numbers(train_gap=-0.2, linear_gap=0.5, linear_exact_minus_is=-0.1, iwae_gap1_refined=0.99,
                                     iwae_L1000=-23.5, train_gap_negative_epochs=3),
            b._numbers(train_gap_negative_epochs=2, iwae_mean_var=0.3, linear_gap=-0.01),
            b._numbers(iwae_gap5=0.05, iwae_gap1=0.2),
            b._numbers(linear_exact_minus_is=-0.1, linear_is_minus_elbo=-0.1, linear_true_minus_exact=-0.1)]),
        "problems": (problems.conclusion, [
            p.numbers(), p.numbers(grad_samples=0.45, grad_draws=0.4, near_median_samples=0.05, near_median_recon=0.12,
                                   near_closer=95.0, near_copies=60.0),
            p.numbers(near_median_samples=0.10, near_median_recon=0.105), p.numbers(near_median_samples=0.135),
            p.numbers(blend_median_samples=0.087, **blend), p.numbers(blend_median_samples=0.12, **blend),
            p.numbers(blend_median_samples=0.03, **{**blend, "blend_median_recon": 0.06, "blend_closer": 90.0}),
            p.numbers(blend_median_samples=0.03, **{**blend, "blend_median_recon": 0.03})]),
    }


_NUMBER = re.compile(r"(?<![\w.])-?\d(?:[\d,]*\d)?(?:\.\d+)?(?:e[-+]?\d+)?%?")


@pytest.mark.parametrize("section", ["moon", "moon-pair", "variance", "mixture", "bound", "problems"])
def test_every_conclusion_branch_in_chinese_has_the_english_numbers_and_no_english(section):
    conclusion, cases = _branches()[section]
    for numbers in cases:
        english = conclusion(numbers)
        with language("zh-TW"):
            chinese = conclusion(numbers)
        assert english_words(chinese) == [], chinese
        assert "{" not in chinese and "}" not in chinese, chinese           # every field filled in
        # the same numbers, formatted the same way (their order may differ with the sentence's)
        en = Counter(_NUMBER.findall(re.sub(r"\b\d-D\b", "", english)))        # "1-D" is said 一維
        zh = Counter(_NUMBER.findall(chinese))
        assert en == zh, (f"only in English: {en - zh}, only in Chinese: {zh - en}", english, chinese)
