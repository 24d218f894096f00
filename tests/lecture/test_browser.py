"""The lecture page in a real browser, in both languages: no errors, nothing fetched from outside, every
image shown, and in Chinese the Chinese drawn with a CJK font (chromium's own report of the fonts it used).

Needs Debian's chromium (``scripts/setup.sh --test`` installs it; without it these skip, or fail on CI),
and for the Chinese page fonts-noto-cjk (setup.sh too).
"""

import re

import pytest
from PIL import Image

from vaekit.i18n import HTML_LANG, _, language
from vaekit.viz.figure import CJK_FONTS
from lecture.browser import FULL_PAGE_SHOT, check_page
from lecture.test_page import write_example

CJK = re.compile(r"[\u3400-\u9fff]")


def heading(lang: str) -> str:
    with language(lang):
        return _("The VAE lecture, run")


def assert_drawn_in_its_language(report: dict, lang: str) -> None:
    """The page says its language, its heading is the translated one, and in Chinese the heading's
    Chinese characters (and the first conclusion's, where asked for) are drawn with a CJK font."""
    assert report["lang"] == HTML_LANG[lang]
    assert report["h1"] == heading(lang)
    for selector, fonts in report["fonts"].items():
        assert fonts, selector
        if lang == "zh-TW":
            cjk = sum(n for family, n in fonts.items() if family in CJK_FONTS or "CJK" in family)
            need = len(CJK.findall(report["h1"])) if selector == "h1" else 100    # 把 VAE 課程跑一遍: 6
            assert cjk >= need, (selector, fonts)


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_rendered_page_loads_cleanly_offline(tmp_path, lang):
    summary, index = write_example(tmp_path / "lecture", lang)
    shots = tmp_path / "shots"
    report = check_page(index, screenshot_dir=shots)
    assert_drawn_in_its_language(report, lang)

    assert report["console_errors"] == []
    assert report["external_requests"] == []
    assert report["failed_requests"] == []
    assert report["external_addresses"] == []
    assert report["broken_images"] == []
    assert report["images"] == sum(len(s["figures"]) for s in summary["sections"]) == 3
    ids = [s["id"] for s in summary["sections"]]
    assert report["sections"] == ["symbols", *ids]
    for name in [FULL_PAGE_SHOT, *(f"{sid}.png" for sid in report["sections"])]:
        with Image.open(shots / name) as img:
            assert img.format == "PNG" and img.width >= 600 and img.height >= 100, name


def test_check_page_catches_what_it_is_for(tmp_path):
    """A page with an off-machine image, a missing figure and a script error is reported."""
    page = tmp_path / "index.html"
    # 127.0.0.1:9 (discard) is refused at once on this machine: nothing leaves it.
    page.write_text("""<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>
        <section id="a"><img src="http://127.0.0.1:9/x.png" alt="remote"></section>
        <section id="b"><img src="figures/missing.png" alt="missing"></section>
        <script>console.error("boom"); undefinedFunction();</script></body></html>""")
    report = check_page(page)
    assert report["external_requests"] == ["http://127.0.0.1:9/x.png"]
    assert report["external_addresses"] == ["http://127.0.0.1:9/x.png"]
    assert sorted(report["broken_images"]) == ["figures/missing.png", "http://127.0.0.1:9/x.png"]
    assert any("boom" in e for e in report["console_errors"])
    assert any("undefinedFunction" in e for e in report["console_errors"])
    assert report["sections"] == ["a", "b"] and report["images"] == 2


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_the_real_quick_report_in_a_browser(request, tmp_path, lang):
    """`vaekit lecture --quick`'s own page, in English and with --lang zh-TW: every figure loads, no console
    error, nothing leaves the machine, the Chinese is drawn in a CJK font, the screenshots are not blank."""
    if lang == "en":
        out, _proc, summary = request.getfixturevalue("quick_report")
    else:
        report_zh = request.getfixturevalue("quick_report_zh")
        out, summary = report_zh["out"], report_zh["summary"]
    shots = tmp_path / "shots"
    report = check_page(out / "index.html", screenshot_dir=shots, fonts_of=("h1", "section#moon .conclusion p"))
    assert_drawn_in_its_language(report, lang)
    assert report["console_errors"] == [] and report["external_requests"] == []
    assert report["failed_requests"] == [] and report["external_addresses"] == []
    assert report["broken_images"] == []
    assert report["images"] == sum(len(s["figures"]) for s in summary["sections"])
    assert report["sections"] == ["symbols", "moon", "variance", "mixture", "bound", "problems"]
    for sid in report["sections"]:
        with Image.open(shots / f"{sid}.png") as img:
            assert img.width >= 600 and img.height >= 200, sid
            assert len(img.convert("L").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20, sid   # not blank
