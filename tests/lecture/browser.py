"""Open a lecture page in a real browser (Debian's chromium, driven by Playwright) and report.

    >>> report = check_page(out / "index.html", screenshot_dir=tmp / "shots")
    >>> assert not report["console_errors"] and not report["external_requests"]
    >>> assert not report["broken_images"] and report["images"] > 0
    >>> report["fonts"]["h1"]        # the fonts that drew the heading: {family: glyphs drawn}
    {'Noto Sans CJK TC': 6, 'DejaVu Sans': 5}

The browser is launched by ``tests/browsers.py`` (Debian's chromium; without it the test
skips, or fails on CI).  One launch, one page load: a few seconds.
"""

from __future__ import annotations

from pathlib import Path

from browsers import browser_or_skip   # tests/browsers.py: Debian's chromium, skip or (on CI) fail without it

VIEWPORT = {"width": 1100, "height": 900}
FULL_PAGE_SHOT = "page.full.png"      # a section id cannot hold a dot, so no section's shot is named so

_IMAGES_JS = """imgs => imgs.map(i => ({src: i.getAttribute('src'), currentSrc: i.currentSrc,
                                       ok: i.complete && i.naturalWidth > 0}))"""
# Every address the page names (links included, which load nothing until clicked): none may
# leave the page's folder.
_ADDRESSES_JS = """els => els.flatMap(e => ['href', 'src', 'srcset', 'action', 'poster']
                                     .map(a => e.getAttribute(a)).filter(v => v !== null))"""


def _is_local(url: str) -> bool:
    return url.startswith(("file://", "data:"))


def _is_external_address(value: str) -> bool:
    """An attribute value that points outside the page's folder: a scheme other than data:, or //host."""
    v = value.strip().lower()
    if v.startswith("//"):
        return True
    head = v.split("/", 1)[0].split("#", 1)[0].split("?", 1)[0]
    return ":" in head and not head.startswith("data:")


def check_page(index_html: Path, screenshot_dir: Path | None = None, *, timeout_s: float = 30.0,
               fonts_of: tuple[str, ...] = ("h1",)) -> dict:
    """Load ``index_html`` from file:// in headless chromium and report what a reader would hit.

    Returns {"console_errors": [...] (console errors and uncaught page errors),
    "external_requests": [...] (every request not to file:// or data:),
    "failed_requests": [...] (requests that failed, with the reason),
    "external_addresses": [...] (href/src attributes that point off the page's folder),
    "broken_images": [...] (src of each <img> not complete or with naturalWidth 0),
    "sections": [...] (the ids of the page's section elements, in order), "images": n,
    "lang": <html lang>, "h1": the heading's text (None without one), "fonts": {selector: {font family:
    glyphs it drew}} for each selector of ``fonts_of`` (its first match; chromium's own report, so a
    character no font has shows as a glyph of a fallback font, never silently)}.
    With ``screenshot_dir``, writes ``page.full.png`` (the full page) and ``<id>.png`` for each
    ``section#<id>``.
    """
    index_html = Path(index_html).resolve()
    if not index_html.is_file():
        raise FileNotFoundError(f"no page at {index_html}")
    console_errors: list[str] = []
    requests: list[str] = []
    failed: list[str] = []
    with browser_or_skip(timeout_s) as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(timeout_s * 1000)
        page.on("console", lambda msg: console_errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: console_errors.append(f"page error: {exc}"))
        page.on("request", lambda req: requests.append(req.url))
        page.on("requestfailed", lambda req: failed.append(f"{req.url}: {req.failure}"))
        page.goto(index_html.as_uri(), wait_until="load")
        images = page.eval_on_selector_all("img", _IMAGES_JS)
        sections = page.eval_on_selector_all("section[id]", "els => els.map(e => e.id)")
        addresses = page.eval_on_selector_all("*", _ADDRESSES_JS)
        lang = page.get_attribute("html", "lang")
        h1 = page.inner_text("h1") if page.locator("h1").count() else None
        fonts = {selector: _fonts(page, selector) for selector in fonts_of}
        if screenshot_dir is not None:
            screenshot_dir = Path(screenshot_dir)
            screenshot_dir.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot_dir / FULL_PAGE_SHOT), full_page=True)
            for sid in sections:
                page.locator(f"section[id='{sid}']").screenshot(path=str(screenshot_dir / f"{sid}.png"))
    return {
        "console_errors": console_errors,
        "external_requests": [u for u in requests if not _is_local(u)],
        "failed_requests": failed,
        "external_addresses": [a for a in addresses if _is_external_address(a)],
        "broken_images": [i["src"] for i in images if not i["ok"]],
        "sections": sections,
        "images": len(images),
        "lang": lang,
        "h1": h1,
        "fonts": fonts,
    }


def _fonts(page, selector: str) -> dict[str, int]:
    """{font family: glyphs} that chromium drew the text of the first ``selector`` match with (DevTools
    protocol, CSS.getPlatformFontsForNode); {} without a match."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    if not node:
        return {}
    out: dict[str, int] = {}
    for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
        out[font["familyName"]] = out.get(font["familyName"], 0) + font["glyphCount"]
    return out
