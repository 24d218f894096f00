"""A real browser on the ``vaekit serve`` page: Debian's Chromium driven by Playwright.

    with browser_or_skip() as browser:          # tests/browsers.py
        page = Page(browser, server_url)      # loads the page, waits until it has drawn everything once
        page.wait_newer("#decoded-0", before)  # an image's data-version grew (it loaded a new picture)
        page.problems()                        # console errors, page errors, failed requests, requests off the origin
        page.scripts                           # {url: (status, Content-Type)} of every script the page loaded

The browser comes from ``tests/browsers.py`` (Debian's chromium; skip without it, fail on CI).
"""

from __future__ import annotations

from urllib.parse import urlsplit

VIEWPORT = {"width": 1300, "height": 900}
TIMEOUT_MS = 15_000


class Page:
    """One tab on the page at ``url``, recording what would be a problem in normal use."""

    def __init__(self, browser, url: str):
        self.url = url
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.scripts: dict[str, tuple[int, str]] = {}
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", self._response)
        self.page.goto(url)
        try:
            self.page.wait_for_selector("body[data-ready='1']")
        except Exception as e:     # Playwright's TimeoutError: say what the browser saw (a module refused, ...)
            status = self.page.text_content("#status")
            raise AssertionError(f"the page never became ready (status line {status!r}); "
                                 f"problems: {self.problems() or 'none seen'}") from e
        n = int(self.page.get_attribute("body", "data-models"))
        # everything the page draws on opening: the plane, decodes, strips, score and copy check of each model
        for i in range(n):
            for sel in (f"#decoded-{i}", f"#input-{i}", f"#interp-strip-{i}", f"#samples-{i}", f"#neighbors-{i}"):
                self.wait_version(sel, 1)
            self.page.wait_for_function(f"document.querySelector('#score-{i}').dataset.ready === '1'")
            self.page.wait_for_function(f"window.vaekitPage.state.models[{i}].points !== null")
        self.idle()

    def _response(self, response) -> None:
        if response.request.resource_type == "script":
            self.scripts[response.url] = (response.status, response.headers.get("content-type", ""))

    def close(self) -> None:
        self.context.close()

    # ---- waiting -------------------------------------------------------------------------------

    def idle(self) -> None:
        """No request in flight (the page counts them in body[data-busy])."""
        self.page.wait_for_function("document.body.dataset.busy === '0'")

    def version(self, selector: str) -> int:
        return int(self.page.get_attribute(selector, "data-version") or 0)

    def wait_version(self, selector: str, at_least: int) -> None:
        self.page.wait_for_function(
            "([sel, v]) => { const e = document.querySelector(sel); return e && Number(e.dataset.version || 0) >= v; }",
            arg=[selector, at_least])

    def wait_newer(self, selector: str, before: int) -> None:
        self.wait_version(selector, before + 1)

    def settle(self, selector: str) -> str:
        """Wait until nothing is in flight, then return the image's content tag (data-hash)."""
        self.idle()
        self.page.wait_for_function("sel => document.querySelector(sel).complete", arg=selector)
        return self.page.get_attribute(selector, "data-hash")

    # ---- looking -------------------------------------------------------------------------------

    def natural_size(self, selector: str) -> tuple[int, int]:
        return tuple(self.page.eval_on_selector(selector, "e => [e.naturalWidth, e.naturalHeight]"))

    def code(self, model: int) -> list[float]:
        return self.page.evaluate(f"window.vaekitPage.state.models[{model}].z.slice()")

    def marker(self, model: int) -> tuple[float, float]:
        """The current code's ring on the plane, in page pixels."""
        box = self.page.locator(f"#plane-{model}").bounding_box()
        x, y = map(float, self.page.get_attribute(f"#plane-{model}", "data-marker").split(","))
        return box["x"] + x, box["y"] + y

    def point(self, model: int, index: int) -> tuple[float, float]:
        """Test image ``index``'s dot on the plane, in page pixels."""
        box = self.page.locator(f"#plane-{model}").bounding_box()
        x, y = self.page.evaluate(f"window.vaekitPage.planeXY({model}, {index})")
        return box["x"] + x, box["y"] + y

    def problems(self, allow_http_errors: bool = False) -> list[str]:
        """Console errors, uncaught exceptions, requests that failed (no answer, refused by the browser) and
        requests that left the server's origin."""
        errors = [e for e in self.console_errors
                  if not (allow_http_errors and "the server responded with a status of 4" in e)]
        off_origin = [u for u in self.requests
                      if not (u.startswith(self.origin + "/") or u.startswith(("blob:" + self.origin, "data:")))]
        return ([f"console: {e}" for e in errors] + [f"exception: {e}" for e in self.page_errors]
                + [f"request failed: {f}" for f in self.failed] + [f"request off the origin: {u}" for u in off_origin])
