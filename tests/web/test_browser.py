"""The ``vaekit serve`` page in a real browser: Chromium (Debian's, /usr/bin/chromium) driven by Playwright.

One browser for the module; one tab per server, kept across the tests of that server. Screenshots of
the one- and two-model pages go to docs/images/serve-{one,two}.png when VAEKIT_SCREENSHOTS is set
(from runs trained longer than the test runs, so the digits are recognisable), to a temporary folder
otherwise.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vaekit.web.app import STATIC

from .page import Page
from .server import Server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def one(browser, server_one):
    page = Page(browser, server_one)
    yield page
    page.close()


@pytest.fixture(scope="module")
def two(browser, server_two):
    page = Page(browser, server_two)
    yield page
    page.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if os.environ.get("VAEKIT_SCREENSHOTS"):
        out = REPO / "docs" / "images"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path_factory.mktemp("screenshots")


def info(page: Page) -> dict:
    return page.page.evaluate("window.vaekitPage.state.info")


# ---- one model -------------------------------------------------------------------------------------

def test_page_loads_everything_from_its_own_server(one):
    p = one.page
    assert one.problems() == []
    assert p.get_attribute("body", "data-models") == "1"
    model = info(one)["models"][0]
    c, h, w = model["image_shape"]
    assert one.natural_size("#decoded-0") == (w, h)
    assert one.natural_size("#noise-0") == (8 * w, h)          # 8 decodes of c = m + exp(sigma/2) e
    assert one.natural_size("#samples-0") == (8 * w, h)
    assert one.natural_size("#interp-strip-0") == (10 * w, h)
    # the sliders: one per latent dim (up to 32), most active first
    dims = p.eval_on_selector_all("#sliders-0 input[type=range]", "es => es.map(e => Number(e.dataset.dim))")
    assert dims == model["order"][:32]
    # the score, in nats: ELBO = recon - KL, and an importance-sampled log p(x) with k stated
    assert float(p.inner_text("#score-0 .elbo")) < 0
    assert float(p.inner_text("#score-0 .logpx")) < 0
    assert f"k = {info(one)['limits']['default_k']}" in p.inner_text("#score-0")
    assert p.locator("#bars-0 svg rect").count() == 3 * model["latent_dim"]   # m, exp(sigma), KL per dim
    # the copy check: a distance, a histogram with this image's line, the sentence
    assert "% of real test images" in p.inner_text("#neighbors-0")
    assert p.locator("#neighbors-0 svg line.here").count() == 1
    assert p.get_attribute("#plane-0", "data-marker")


def test_every_module_loads_as_javascript(one):
    """The page is native ES modules (static/js/): each one under static/ is loaded, answered 200 with a
    JavaScript type (a browser refuses a module script of any other), and nothing failed or logged an error."""
    modules = {f"{one.origin}/static/{p.relative_to(STATIC).as_posix()}" for p in STATIC.rglob("*.js")}
    assert set(one.scripts) == modules
    for url, (status, content_type) in one.scripts.items():
        assert status == 200 and content_type.startswith("text/javascript"), (url, status, content_type)
    assert one.failed == [] and one.problems() == []


def test_drag_on_the_plane_moves_the_code_and_decodes_it(one):
    p = one.page
    order = info(one)["models"][0]["order"]
    z0 = one.code(0)
    before_hash, before = one.settle("#decoded-0"), one.version("#decoded-0")
    box = p.locator("#plane-0").bounding_box()
    mx, my = one.marker(0)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tx, ty = mx + (70 if mx < cx else -70), my + (50 if my < cy else -50)
    p.mouse.move(mx, my)
    p.mouse.down()
    p.mouse.move(tx, ty, steps=6)
    p.mouse.up()
    one.wait_newer("#decoded-0", before)
    assert one.settle("#decoded-0") != before_hash
    z1 = one.code(0)
    # the two plane dims moved; the others kept the current code's values
    assert z1[order[0]] != z0[order[0]] and z1[order[1]] != z0[order[1]]
    assert [z1[d] for d in order[2:]] == [z0[d] for d in order[2:]]
    # the sliders follow
    shown = p.inner_text(f"#sliders-0 input[data-dim='{order[0]}'] + output")
    assert float(shown) == pytest.approx(z1[order[0]], abs=0.006)
    # hovering previews the point under the pointer without moving the code
    before_preview = one.version("#preview-0")
    p.mouse.move(cx + 5, cy + 5)
    p.mouse.move(cx - 10, cy + 20)
    one.wait_newer("#preview-0", before_preview)
    assert one.code(0) == z1
    p.mouse.move(0, 0)
    assert one.problems() == []


def test_dims_selects_swap_instead_of_repeating_a_dim(one):
    p = one.page
    order = info(one)["models"][0]["order"]
    p.select_option("#dimx-0", str(order[1]))             # y's dim: x and y trade places
    p.wait_for_function(f"document.querySelector('#axes-0').textContent === 'x: z{order[1]} · y: z{order[0]}'")
    assert p.input_value("#dimy-0") == str(order[0])
    p.select_option("#dimx-0", str(order[0]))
    p.wait_for_function(f"document.querySelector('#axes-0').textContent === 'x: z{order[0]} · y: z{order[1]}'")
    one.idle()
    assert one.problems() == []


def test_pca_plane(one):
    p = one.page
    before = p.get_attribute("#plane-0", "data-marker")
    p.select_option("#proj-0", "pca")
    p.wait_for_function("document.querySelector('#axes-0').textContent.includes('PC1')")
    assert p.locator("#dims-0").is_hidden()
    assert p.get_attribute("#plane-0", "data-marker") != before      # the same code, seen on another plane
    p.select_option("#proj-0", "dims")
    p.wait_for_function("document.querySelector('#axes-0').textContent.startsWith('x: z')")
    one.idle()
    assert one.problems() == []


def test_click_on_a_dot_picks_that_test_image(one):
    p = one.page
    k = 17
    before = one.version("#input-0")
    x, y = one.point(0, k)
    p.mouse.click(x, y)
    one.wait_newer("#input-0", before)
    one.idle()
    picked = int(p.input_value("#index"))
    px, py = one.point(0, picked)
    assert (px, py) == pytest.approx((x, y), abs=0.5)        # k, or a dot drawn on the same spot
    assert p.evaluate("window.vaekitPage.state.models[0].enc.index") == picked
    assert f"test image {picked}" in p.inner_text("#image-label")
    assert one.problems() == []


def test_slider_decodes_live_with_one_request_in_flight(one):
    p = one.page
    order = info(one)["models"][0]["order"]
    p.mouse.move(0, 0)                       # no hover previews while the slider moves
    one.idle()
    before_hash, before = one.settle("#decoded-0"), one.version("#decoded-0")
    marker = p.get_attribute("#plane-0", "data-marker")
    live, most = {"decode": 0, "neighbors": 0}, {"decode": 0, "neighbors": 0}

    def control(request):
        if request.method != "POST" or not request.url.endswith(("/api/decode", "/api/neighbors")):
            return None
        body = json.loads(request.post_data)
        if request.url.endswith("/api/decode") and not isinstance(body["z"][0], (int, float)):
            return None                      # a strip (noise, samples), not the current code
        return "decode" if request.url.endswith("/api/decode") else "neighbors"

    def started(request):
        if (c := control(request)) and json.loads(request.post_data)["model"] == 0:
            live[c] += 1
            most[c] = max(most[c], live[c])

    def ended(request):
        if (c := control(request)) and json.loads(request.post_data)["model"] == 0:
            live[c] -= 1

    p.on("request", started)
    p.on("requestfinished", ended)
    p.on("requestfailed", ended)
    try:
        slider = p.locator(f"#sliders-0 input[data-dim='{order[0]}']")
        slider.focus()
        for _ in range(25):
            p.keyboard.press("ArrowRight")
        p.keyboard.press("End")
        one.wait_newer("#decoded-0", before)
        one.idle()
    finally:
        p.remove_listener("request", started)
        p.remove_listener("requestfinished", ended)
        p.remove_listener("requestfailed", ended)
    assert one.settle("#decoded-0") != before_hash
    assert one.code(0)[order[0]] == pytest.approx(float(slider.get_attribute("max")))
    assert p.get_attribute("#plane-0", "data-marker") != marker
    assert most == {"decode": 1, "neighbors": 1}         # coalesced: never two at once per control
    assert one.problems() == []


def test_coalescing_keeps_only_the_latest_pending_request(one):
    seen = one.page.evaluate("""async () => {
        const {Latest} = window.vaekitPage;
        let live = 0, most = 0; const seen = [], gates = [], errors = [];
        const tick = () => new Promise(r => setTimeout(r, 0));
        const control = new Latest(async x => {
            live++; most = Math.max(most, live); seen.push(x);
            await new Promise(r => gates.push(r));
            live--;
            if (x === 'boom') throw new Error('boom');
        }, e => errors.push(e.message));
        for (const x of [1, 2, 3, 4]) control.request(x);
        while (gates.length) { gates.shift()(); await tick(); }
        control.request('boom'); control.request('after');   // an error does not stall the control
        while (gates.length) { gates.shift()(); await tick(); }
        return {seen, most, errors};
    }""")
    assert seen == {"seen": [1, 4, "boom", "after"], "most": 1, "errors": ["boom"]}


def test_interpolation_strip_and_prior_samples(one):
    p = one.page
    w = info(one)["models"][0]["image_shape"][2]
    before = one.version("#interp-strip-0")
    p.fill("#interp-steps", "7")
    p.fill("#interp-b", "5")
    p.select_option("#interp-method", "slerp")
    p.click("#interp-go")
    p.wait_for_function("document.querySelector('#interp-strip-0').dataset.n === '7'")
    one.wait_newer("#interp-strip-0", before)
    one.idle()
    assert one.natural_size("#interp-strip-0")[0] == 7 * w
    assert "slerp" in p.inner_text("#interp-note-0")
    # prior samples: a new seed draws new codes; the same seed draws the same ones again
    first = one.settle("#samples-0")
    before = one.version("#samples-0")
    p.click("#sample-go")
    one.wait_newer("#samples-0", before)
    assert p.input_value("#sample-seed") == "1"
    assert one.settle("#samples-0") != first
    before = one.version("#samples-0")
    p.fill("#sample-seed", "0")
    p.dispatch_event("#sample-seed", "change")
    one.wait_newer("#samples-0", before)
    assert one.settle("#samples-0") == first
    assert one.problems() == []


def _server_error(url: str, body: bytes, content_type: str) -> str:
    request = urllib.request.Request(url + "api/encode?model=0", data=body, headers={"Content-Type": content_type})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=30)
    return json.loads(e.value.read())["error"]


def test_upload_shows_the_servers_error_and_encodes_a_good_image(browser, server_one):
    from PIL import Image

    page = Page(browser, server_one)           # a tab of its own: refused uploads log 4xx in the console
    p = page.page
    try:
        not_png = b"this is a text file, not a PNG\n"
        p.set_input_files("#upload", files=[{"name": "notes.png", "mimeType": "image/png", "buffer": not_png}])
        p.wait_for_selector("#upload-error", state="visible")
        assert _server_error(server_one, not_png, "image/png") in p.inner_text("#upload-error")

        # a file of another type goes as base64 JSON: the server's answer is still about the file
        p.set_input_files("#upload", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": not_png}])
        p.wait_for_function("document.querySelector('#upload-error').dataset.count === '2'")
        assert "not a PNG or JPEG" in p.inner_text("#upload-error")

        limit = info(page)["limits"]["max_upload_bytes"]
        big = b"\x89PNG\r\n\x1a\n" + bytes(limit)
        p.set_input_files("#upload", files=[{"name": "big.png", "mimeType": "image/png", "buffer": big}])
        p.wait_for_function("document.querySelector('#upload-error').textContent.includes('limit')")
        assert _server_error(server_one, big, "image/png") in p.inner_text("#upload-error")

        # a real image (any size: the server resizes it) replaces the message with its encoding
        digit = Image.new("L", (32, 32), 0)
        digit.paste(255, (10, 4, 22, 28))
        digit.paste(0, (14, 8, 18, 24))
        buf = io.BytesIO()
        digit.save(buf, format="PNG")
        before = page.version("#input-0"), page.version("#interp-strip-0")
        p.set_input_files("#upload", files=[{"name": "zero.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
        page.wait_newer("#input-0", before[0])
        page.wait_newer("#interp-strip-0", before[1])            # A is now the upload
        p.wait_for_selector("#upload-error", state="hidden")
        assert "zero.png" in p.inner_text("#image-label")
        p.wait_for_function("document.querySelector('#score-0').dataset.ready === '1'")
        page.idle()
        assert float(p.inner_text("#score-0 .logpx")) < 0
        assert page.problems(allow_http_errors=True) == []
    finally:
        page.close()


# ---- two models, side by side ---------------------------------------------------------------------

def test_two_models_side_by_side(two):
    p = two.page
    assert two.problems() == []
    assert p.get_attribute("body", "data-models") == "2"
    models = info(two)["models"]
    assert [m["kind"] for m in models] == ["vae", "ae"]
    header = p.inner_text("#models")
    assert all(m["run"] in header for m in models) and "AE" in header
    w = models[0]["image_shape"][2]
    for i, m in enumerate(models):
        assert p.locator(f"#sliders-{i} input[type=range]").count() == min(32, m["latent_dim"])
        assert two.natural_size(f"#interp-strip-{i}") == (10 * w, w)
        assert two.natural_size(f"#samples-{i}") == (8 * w, w)
        drawn = p.evaluate(f"""() => {{
            const c = document.querySelector('#plane-{i}'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let k = 0; k < d.length; k += 4) if (d[k] < 200 || d[k + 1] < 200) n++; return n; }}""")
        assert drawn > 200, f"plane {i} looks empty"
        assert "% of real test images" in p.inner_text(f"#neighbors-{i}")
    # the AE has no noise: no noise strip, no ELBO, the page says so
    assert p.locator("#noise-1").count() == 0
    assert "AE: no noise" in p.inner_text("#image-cols")
    assert p.locator("#score-1 .elbo").count() == 0
    assert p.locator("#bars-1 svg rect").count() == models[1]["latent_dim"]       # m only

    # picking a dot on the AE's plane picks that test image for both models
    before = [two.version("#input-0"), two.version("#input-1")]
    x, y = two.point(1, 30)
    p.mouse.click(x, y)
    two.wait_newer("#input-0", before[0])
    two.wait_newer("#input-1", before[1])
    two.idle()
    picked = int(p.input_value("#index"))
    assert [p.evaluate(f"window.vaekitPage.state.models[{i}].enc.index") for i in (0, 1)] == [picked, picked]

    # interpolating between sampled codes: the AE falls back to its means and says so
    before = [two.version("#interp-strip-0"), two.version("#interp-strip-1")]
    p.select_option("#interp-code", "sample")
    two.wait_newer("#interp-strip-0", before[0])
    two.wait_newer("#interp-strip-1", before[1])
    two.idle()
    assert "sampled" in p.inner_text("#interp-note-0")
    assert "AE: no noise" in p.inner_text("#interp-note-1")
    assert two.problems() == []


# ---- screenshots ----------------------------------------------------------------------------------

# VAEKIT_SCREENSHOTS=1 pytest tests/web/test_browser.py -k screenshots: docs/images/serve-{one,two}.png,
# from runs trained long enough to show digits (~30 s more), or from VAEKIT_SCREENSHOT_RUNS=VAE_RUN,AE_RUN;
# otherwise the test servers' pages, to tmp.
SHOT_TRAIN = ["--data", "digits", "--epochs", "100", "--latent", "8", "--hidden", "256", "--log-px-every", "0",
              "--seed", "0"]


@contextlib.contextmanager
def screenshot_servers(request, tmp_path_factory):
    if not os.environ.get("VAEKIT_SCREENSHOTS"):
        yield request.getfixturevalue("server_one"), request.getfixturevalue("server_two")
        return
    given = os.environ.get("VAEKIT_SCREENSHOT_RUNS")   # "VAE_RUN,AE_RUN": runs of your own (the README's: MNIST)
    if given:
        vae, ae = (Path(r) for r in given.split(","))
    else:
        root = tmp_path_factory.mktemp("screenshot-runs")
        vae, ae = root / "digits-vae", root / "digits-ae"
        for kind, out in (("vae", vae), ("ae", ae)):
            subprocess.run([sys.executable, "-m", "vaekit", "train", *SHOT_TRAIN, "--model", kind, "--out", str(out)],
                           check=True, capture_output=True, timeout=600)
    with Server([vae]) as one, Server([vae, ae]) as two:
        yield one.url, two.url


def test_screenshots(browser, shots, request, tmp_path_factory):
    with screenshot_servers(request, tmp_path_factory) as urls:
        for name, url in zip(("serve-one.png", "serve-two.png"), urls):
            page = Page(browser, url)
            try:
                p = page.page
                before = page.version("#input-0")
                p.fill("#index", "7")
                p.dispatch_event("#index", "change")
                page.wait_newer("#input-0", before)
                p.locator("#index").blur()
                page.idle()
                x, y = page.point(0, 3)
                p.mouse.move(x + 8, y - 8)   # a preview of the point under the pointer
                page.wait_version("#preview-0", 1)
                page.idle()
                p.wait_for_function("[...document.images].every(i => i.complete)")
                p.screenshot(path=str(shots / name), full_page=True)
                assert page.problems() == []
            finally:
                page.close()
