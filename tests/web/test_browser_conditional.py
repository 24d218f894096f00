"""The class picker of a conditional run, in a real browser (Chromium via Playwright, as test_browser.py).

The page shows the conditional VAE (model 0) beside an unconditional VAE (model 1): only model 0
gets a picker, and picking a class decodes again, with that class, what model 0 shows from codes.
"""

from __future__ import annotations

import io
import json

import pytest


from .page import Page

SHOWN = ("#decoded-0", "#samples-0", "#interp-strip-0", "#nb-query-0")   # decoded from codes, with the picker's y
OTHER = ("#decoded-1", "#samples-1", "#interp-strip-1", "#nb-query-1")   # the unconditional model's


@pytest.fixture(scope="module")
def page(browser, server_cond):
    page = Page(browser, server_cond)
    yield page
    page.close()


def _labels_sent(p, into: list):
    """Record (route, label) of each of model 0's POSTs that decode a code."""
    def on_request(request):
        if request.method == "POST" and request.url.endswith(("/api/decode", "/api/sample", "/api/interpolate",
                                                               "/api/neighbors")):
            body = json.loads(request.post_data)
            if body.get("model", 0) == 0:
                into.append((request.url.rsplit("/", 1)[1], body.get("label")))
    p.on("request", on_request)
    return on_request


def test_only_the_conditional_model_has_a_class_picker(page):
    p = page.page
    models = p.evaluate("window.vaekitPage.state.info")["models"]
    assert [m["condition"] for m in models] == ["label", "none"]
    assert p.locator("#class-0").count() == 1 and p.locator("#class-1").count() == 0
    assert p.get_by_label("class y").count() == 1                                   # labelled
    assert p.eval_on_selector_all("#class-0 option", "os => os.map(o => o.value)") == [str(k) for k in range(10)]
    assert p.input_value("#class-0") == str(models[0]["start_label"])          # test image 0's own label
    header = p.inner_text("#models").splitlines()
    assert "given the class y, 10 classes" in header[0] and "class" not in header[1]
    assert p.locator("#samples-note-1").count() == 0 and "class" not in p.inner_text("#interp-note-1")
    assert page.problems() == []


def test_picking_a_class_decodes_the_page_again_with_it(page):
    p = page.page
    start = int(p.input_value("#class-0"))
    p.mouse.move(0, 0)
    page.idle()
    before = {s: page.settle(s) for s in SHOWN + OTHER}
    versions = {s: page.version(s) for s in SHOWN}
    sent = []
    listener = _labels_sent(p, sent)
    try:
        # by keyboard: the focused select moves to the next class
        key, new = ("ArrowDown", start + 1) if start < 9 else ("ArrowUp", start - 1)
        p.locator("#class-0").focus()
        p.keyboard.press(key)
        for s in SHOWN:
            page.wait_newer(s, versions[s])
        after = {s: page.settle(s) for s in SHOWN + OTHER}
    finally:
        p.remove_listener("request", listener)
    assert p.input_value("#class-0") == str(new)
    changed = [s for s in SHOWN if after[s] != before[s]]
    assert changed == list(SHOWN), f"not decoded again with class {new}: {set(SHOWN) - set(changed)}"
    assert [after[s] for s in OTHER] == [before[s] for s in OTHER]             # the other model is untouched
    assert {route for route, _ in sent} == {"decode", "sample", "interpolate", "neighbors"}
    assert all(label == new for _, label in sent), sent
    assert f"class y = {new}" in p.inner_text("#samples-note-0")
    assert f"decoded as class y = {new}" in p.inner_text("#interp-note-0")
    # the code c did not move: only its class did; back to the first class, the first images come back
    versions = {s: page.version(s) for s in SHOWN}
    p.select_option("#class-0", str(start))
    for s in SHOWN:
        page.wait_newer(s, versions[s])
    assert {s: page.settle(s) for s in SHOWN} == {s: before[s] for s in SHOWN}
    assert page.problems() == []


def test_an_upload_is_encoded_with_the_picked_class(page, tmp_path):
    from PIL import Image

    p = page.page
    p.select_option("#class-0", "5")
    page.idle()
    digit = Image.new("L", (32, 32), 0)
    digit.paste(255, (10, 4, 22, 28))
    buf = io.BytesIO()
    digit.save(buf, format="PNG")
    before = page.version("#input-0"), page.version("#input-1")
    p.set_input_files("#upload", files=[{"name": "bar.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.wait_newer("#input-0", before[0])
    page.wait_newer("#input-1", before[1])
    p.wait_for_function("document.querySelector('#score-0').dataset.ready === '1'")
    page.idle()
    src = p.evaluate("window.vaekitPage.state.models.map(M => M.src)")
    assert src[0]["label"] == 5 and "label" not in src[1]
    assert p.inner_text("#recon-cap-0") == "decode of m, class y = 5"
    assert p.locator("#recon-cap-1").count() == 0
    assert float(p.inner_text("#score-0 .logpx")) < 0
    p.screenshot(path=str(tmp_path / "serve-conditional.png"), full_page=True)
    assert page.problems() == []
