"""Models built from other parts, in a real browser (Chromium via Playwright, as test_browser.py): a VAE
with two stochastic layers (model 0), whose explored code is z1, beside one with a learned mixture prior
(model 1).  Neither has a KL per dimension in closed form, nor a prior of variance 1 per dimension."""

from __future__ import annotations

import json

import pytest


from .page import Page


@pytest.fixture(scope="module")
def page(browser, server_parts):
    page = Page(browser, server_parts)
    yield page
    page.close()


def test_a_two_layer_model_and_a_mixture_prior_are_explored(page):
    p = page.page
    models = p.evaluate("window.vaekitPage.state.info")["models"]
    assert [(m["stochastic_layers"], m["latent2"], m["prior"]) for m in models] == [(2, 2, "standard"), (1, 0, "mog")]
    assert all(m["latent_dim"] == 4 for m in models)                             # z1 for the two-layer model
    header = p.inner_text("#models").splitlines()
    assert "z1 of two stochastic layers (z2: 2)" in header[0]
    assert "stochastic" not in header[1]
    assert "z1, the code the decoder reads; z2: 2" in p.inner_text("#sample-cols")   # each view's column head
    c, h, w = models[0]["image_shape"]
    for i in (0, 1):
        assert page.natural_size(f"#samples-{i}") == (8 * w, h)                  # drawn from its own prior
        p.wait_for_function("sel => document.querySelector(sel).dataset.ready === '1'", arg=f"#score-{i}")
        assert float(p.inner_text(f"#score-{i} .logpx")) < 0
        assert p.locator(f"#bars-{i} svg rect").count() == 2 * models[i]["latent_dim"]   # m and exp(σ): no KL row
        assert "prior 1" not in p.inner_text(f"#bars-{i}") and "computing" not in p.inner_text(f"#bars-{i}")
    assert page.problems() == []


def test_samples_are_requested_from_the_server_with_a_seed(page):
    p = page.page
    sent = []

    def on_request(request):
        if request.method == "POST" and request.url.endswith("/api/sample"):
            sent.append(json.loads(request.post_data))
    p.on("request", on_request)
    try:
        before = page.version("#samples-0")
        p.fill("#sample-seed", "4")
        p.dispatch_event("#sample-seed", "change")
        page.wait_newer("#samples-0", before)
    finally:
        p.remove_listener("request", on_request)
    assert sorted((b["model"], b["n"], b["seed"]) for b in sent) == [(0, 8, 4), (1, 8, 4)]
    assert page.problems() == []
