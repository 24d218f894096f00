"""The lecture page in a real browser: no errors, nothing fetched from outside, every image shown.

Needs Debian's chromium (``scripts/setup.sh --test`` installs it; without it these skip, or fail on CI).
"""


from PIL import Image

from lecture.browser import FULL_PAGE_SHOT, check_page
from lecture.test_page import write_example


def test_rendered_page_loads_cleanly_offline(tmp_path):
    summary, index = write_example(tmp_path / "lecture")
    shots = tmp_path / "shots"
    report = check_page(index, screenshot_dir=shots)

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


def test_the_real_quick_report_in_a_browser(quick_report, tmp_path):
    """`vaekit lecture --quick`'s own page: every figure loads, no console error, nothing leaves the machine."""
    out, _, summary = quick_report
    shots = tmp_path / "shots"
    report = check_page(out / "index.html", screenshot_dir=shots)
    assert report["console_errors"] == [] and report["external_requests"] == []
    assert report["failed_requests"] == [] and report["external_addresses"] == []
    assert report["broken_images"] == []
    assert report["images"] == sum(len(s["figures"]) for s in summary["sections"])
    assert report["sections"] == ["symbols", "moon", "variance", "mixture", "bound", "problems"]
    for sid in report["sections"]:
        with Image.open(shots / f"{sid}.png") as img:
            assert img.width >= 600 and img.height >= 200, sid
