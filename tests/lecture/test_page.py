"""The lecture page: rendered from a summary, escaped, numbers formatted, offline, errors named."""

import copy
import math
import re
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image, ImageDraw

from vaekit.errors import VaekitError
from vaekit.lecture.page import (
    SummaryError, format_duration, format_number, paragraphs, render_page, write_page,
)

EVIL_CAPTION = 'Codes <script>alert("x")</script> & friends'


def _png(path: Path, size: tuple[int, int], colour: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w * 0.1, h * 0.1, w * 0.9, h * 0.9), outline=colour, width=4)
    draw.line((0, h - 1, w - 1, 0), fill=colour, width=3)
    img.save(path)


def example_summary(lang: str | None = None) -> dict:
    """A two-section summary in the lecture's format (the numbers are made up); ``lang``: its settings.lang
    (None: none, as in a summary from before the page had languages)."""
    summary = {
        "format": "vaekit-lecture/1", "vaekit_version": "0.1.0", "torch_version": "2.13.0",
        "created": "2025-01-02T03:04:05+00:00",
        "settings": {"data": "digits", "quick": True, "seed": 0, "device": "cpu", "data_dir": None},
        "seconds": 123.4,
        "sections": [
            {"id": "moon", "number": 1, "title": "AE vs VAE: the moon",
             "claim": "Codes between a full moon's code m and a half moon's decode to nothing with an "
                      "AE; with noise e scaled by exp(σ/2), a VAE decodes them to something in between.",
             "method": "Train an AE and a VAE on moon images.\n\nDecode 11 codes on the line between "
                       "two images' codes m, and measure how far each decode is from the nearest "
                       "true moon ‖x − x̂‖.",
             "figures": [
                 {"file": "figures/moon-path.png", "caption": "AE (top) and VAE (bottom) along the path.",
                  "alt": "two rows of decoded moons", "width": 600},
                 {"file": "figures/moon-distance.png", "caption": EVIL_CAPTION, "alt": "distance curves"},
             ],
             "tables": [],
             "numbers": {
                 "ae_path_distance": {"value": 0.21345, "unit": "RMS pixel distance, pixels in [0,1]",
                                      "label": "AE: mean distance to the nearest true moon along the path"},
                 "vae_path_distance": {"value": 0.0521, "unit": "RMS pixel distance, pixels in [0,1]",
                                       "label": "VAE: mean distance to the nearest true moon along the path"},
             },
             "conclusion": "The VAE's path stays 4.1 times closer to real moons than the AE's.",
             "runs": ["runs/moon-ae-3f2a1b9c", "runs/moon-vae-3f2a1b9c"],
             "seconds": 12.3},
            {"id": "mixture", "number": 2, "title": "A VAE is an infinite mixture",
             "claim": "P(x) = Σ_m P(m) P(x|m) for a mixture; P(x) = ∫ P(z) P(x|z) dz for the VAE.",
             "method": "Fit Gaussian mixtures and a VAE to the same images; compare log p(x) on test images.",
             "figures": [{"file": "figures/mixture-samples.png", "caption": "Samples of each model.",
                          "alt": "sample grids", "width": 500}],
             "tables": [{"caption": "Test log-likelihood per image",
                         "columns": ["model", "log p(x) (nats)", "bits/dim", "components"],
                         "rows": [["GMM M=10", -123.456, 2.5e-5, 10],
                                  ["VAE", -98.7654, None, None]]}],
             "numbers": {"vae_minus_gmm": {"value": 24.6906, "unit": "nats per image",
                                           "label": "log p(x) of the VAE minus the best mixture's"}},
             "conclusion": "The VAE assigns the test images 24.69 nats more log-likelihood.",
             "runs": ["runs/mixture-gmm-10"],
             "seconds": 100.5},
        ],
    }
    if lang is not None:
        summary["settings"]["lang"] = lang
    return summary


def write_example(out_dir: Path, lang: str | None = None) -> tuple[dict, Path]:
    """The example summary's page and figures written into ``out_dir``; returns (summary, index.html)."""
    summary = example_summary(lang)
    _png(out_dir / "figures/moon-path.png", (360, 120), "navy")
    _png(out_dir / "figures/moon-distance.png", (240, 160), "darkred")
    _png(out_dir / "figures/mixture-samples.png", (200, 200), "darkgreen")
    return summary, write_page(summary, out_dir)


def test_page_shows_every_section_claim_figure_and_number(tmp_path):
    summary, index = write_example(tmp_path)
    assert index == tmp_path / "index.html"
    html = index.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for section in summary["sections"]:
        assert f'<section id="{section["id"]}">' in html
        assert f'<a href="#{section["id"]}">' in html                       # table of contents
        assert f"{section['number']}. " in html
        for fig in section["figures"]:
            assert f'src="{fig["file"]}"' in html
            assert f'alt="{fig["alt"]}"' in html
        for number in section["numbers"].values():
            assert escape(number["label"]) in html and escape(number["unit"]) in html
        for run in section["runs"]:
            assert f"<code>{run}</code>" in html
        assert escape(section["conclusion"]) in html
    # Titles and claims keep their symbols (σ, Σ, ∫, ‖) and are escaped (& -> &amp;, ' -> &#39;).
    assert "AE vs VAE: the moon" in html and "A VAE is an infinite mixture" in html
    assert "P(x) = Σ_m P(m) P(x|m) for a mixture; P(x) = ∫ P(z) P(x|z) dz for the VAE." in html
    assert "exp(σ/2)" in html and "‖x − x̂‖" in html
    assert "AE (top) and VAE (bottom) along the path." in html
    assert "<span class=\"label\">The lecture:</span>" in html
    assert "<span class=\"label\">The experiment:</span> Train an AE and a VAE on moon images.</p>" in html
    assert "<p>Decode 11 codes on the line between two images&#39; codes m" in html   # 2nd paragraph
    assert "What the numbers show:" in html
    assert 'width="600"' in html and 'width="500"' in html
    assert html.count('loading="eager"') == 3 and html.count("<figcaption>") == 3
    # The symbols table and the correction of the lecture's c = m + exp(σ)·e.
    assert "<code>log_var</code>" in html and "exp(σ/2)·e" in html and "c = m + exp(σ)·e" in html
    assert "quick: yes" in html and "seed 0" in html and "2 min 03 s in all" in html


def test_caption_html_is_escaped(tmp_path):
    _, index = write_example(tmp_path)
    html = index.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "Codes &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; friends" in html


def test_numbers_are_formatted_by_one_filter(tmp_path):
    cases = {0.21345: "0.213", 0.0521: "0.0521", -123.456: "-123.46", 24.6906: "24.69", 7: "7",
             10: "10", 2.5e-5: "2.50e-05", 3.2e7: "3.20e+07", 0.0: "0", None: "–", True: "yes",
             math.nan: "NaN", -math.inf: "-∞", "GMM M=10": "GMM M=10"}
    for value, shown in cases.items():
        assert format_number(value) == shown, value
    np = pytest.importorskip("numpy")
    assert format_number(np.float32(0.5)) == "0.5" and format_number(np.int64(3)) == "3"

    _, index = write_example(tmp_path)
    html = index.read_text(encoding="utf-8")
    assert '<td class="num">-123.46</td><td class="num">2.50e-05</td><td class="num">10</td>' in html
    assert '<td>VAE</td><td class="num">-98.77</td><td class="num">–</td><td class="num">–</td>' in html
    assert '<td class="num">0.213</td>' in html and '<td class="num">24.69</td>' in html


def test_helpers():
    assert paragraphs("one\nline\n\n  two \n \nthree") == ["one line", "two", "three"]
    assert format_duration(4.24) == "4.2 s" and format_duration(3725) == "1 h 02 min"


def test_page_is_offline():
    html = render_page(example_summary())
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)=["'](?!#|figures/)""", html)   # only anchors and figures
    assert "<script" not in html and "<link" not in html and "@import" not in html


@pytest.mark.parametrize("drop, message", [
    (lambda s: s["sections"][0].pop("claim"), "section 'moon' has no key 'claim'"),
    (lambda s: s["sections"][1]["figures"][0].pop("caption"),
     r"section 'mixture' figures\[0\] has no key 'caption'"),
    (lambda s: s["sections"][0]["numbers"]["ae_path_distance"].pop("unit"),
     r"section 'moon' numbers\['ae_path_distance'\] has no key 'unit'"),
    (lambda s: s["settings"].pop("seed"), "settings has no key 'seed'"),
    (lambda s: s.pop("sections"), "the summary has no key 'sections'"),
    (lambda s: s.update(format="vaekit-lecture/0"), "format must be 'vaekit-lecture/1'"),
    (lambda s: s["sections"][1].update(id="moon"), "'moon' is used by an earlier section"),
    (lambda s: s["sections"][1].update(id="symbols"), "taken by the page itself"),
    (lambda s: s["sections"][1].update(id="two words"), r"sections\[1\].id must be a letter"),
    (lambda s: s["sections"][1]["tables"][0]["rows"][1].pop(),
     r"rows\[1\] has 3 cells for 4 columns"),
    (lambda s: s["sections"][0]["figures"][0].update(file="https://example.org/x.png"),
     "must be a relative path below the page's folder"),
    (lambda s: s["sections"][0]["figures"][0].update(file="../elsewhere.png"), "relative path"),
    (lambda s: s["sections"][0]["figures"][0].update(width="600px"), "width must be a positive integer"),
])
def test_a_summary_the_page_cannot_show_is_named(drop, message):
    summary = copy.deepcopy(example_summary())
    drop(summary)
    with pytest.raises(SummaryError, match=message) as info:
        render_page(summary)
    assert isinstance(info.value, VaekitError)
    assert str(info.value).startswith("lecture summary: ")


def test_write_page_replaces_the_page_whole(tmp_path):
    summary, index = write_example(tmp_path)
    summary["sections"][0]["title"] = "A new title"
    assert write_page(summary, tmp_path) == index
    assert "A new title" in index.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "index.html"]   # no temporary left


def test_template_ships_with_the_package():
    from importlib.resources import files

    assert (files("vaekit.lecture") / "templates" / "report.html.j2").is_file()


def test_page_in_chinese_translates_its_own_words_and_keeps_the_summarys(tmp_path):
    summary, index = write_example(tmp_path, "zh-TW")
    html = index.read_text(encoding="utf-8")
    assert '<html lang="zh-Hant-TW">' in html and '"Noto Sans CJK TC"' in html     # the CJK fonts in the stack
    assert "<title>把 VAE 課程跑一遍</title>" in html and "<h2>目錄</h2>" in html
    assert '<span class="label">課程說：</span>' in html and '<span class="label">數字說明了什麼：</span>' in html
    assert "快速模式：是" in html and "種子 0" in html and "共 2 min 03 s" in html
    assert "<code>m</code>，來自 <code>m, log_var = model.encode(x)</code>" in html
    # the sections' own texts are the summary's (a report made in Chinese has them in Chinese already)
    assert "AE vs VAE: the moon" in html and escape(summary["sections"][0]["conclusion"]) in html
    assert "The lecture:" not in html and "What the numbers show:" not in html and "Contents" not in html


def test_a_summary_without_a_language_is_english_and_an_unknown_one_is_named():
    html = render_page(example_summary())                  # a summary from before the page had languages
    assert '<html lang="en">' in html and "The VAE lecture, run" in html and "CJK" not in html
    assert render_page(example_summary("en")) == html
    with pytest.raises(SummaryError, match="settings.lang must be one of en, zh-TW; got 'fr'"):
        render_page(example_summary("fr"))


def test_the_page_leaves_the_language_as_it_found_it():
    from vaekit.i18n import current, language

    render_page(example_summary("zh-TW"))
    assert current() == "en" and format_number(True) == "yes"
    with language("zh-TW"):
        render_page(example_summary("en"))
        assert current() == "zh-TW" and format_number(True) == "是"
