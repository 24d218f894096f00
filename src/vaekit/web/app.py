"""The HTTP side of ``vaekit serve``: routes, request checking, error answers, the static page.

Routes (JSON unless said; the README's "Exploring a model in the browser" documents each):

    GET  /                  the page (static/index.html); GET /static/<file> its style and JavaScript modules
    GET  /api/info          each model: kind, latent_dim, image shape, likelihood, dataset, run name, condition
    GET  /api/points        the test set's codes projected on a plane, with labels
    POST /api/decode        {"z": [...]} or {"z": [[...], ...]} -> PNG (a strip for several)
    POST /api/encode        a test index or an uploaded image -> m, log_var, reconstruction
    POST /api/interpolate   two images -> PNG strip of decodes along the path between their codes
    POST /api/neighbors     a code or an image -> its nearest training image, and the test images' distances
    POST /api/score         a test index or an uploaded image -> ELBO, KL per dimension, log p(x), nats

A conditional model (``condition`` "label" in /api/info) takes the class y as ``"label"`` (0..C−1) in
every route that encodes or decodes; a test image named by index defaults to its own label, anything
else must name one (``label_of``).  An unconditional model refuses a label.

Every refusal is a 4xx answer ``{"error": "<one line>"}``; the server keeps serving.  Model
work runs in the thread pool (``run_in_threadpool``), never on the event loop, so a slow
request (a large-k score) does not hold up the others.  The work of milliseconds or more per
request, a score's or an interpolation's, runs at most HEAVY_AT_ONCE at a time: with 16 clients
at once, a decode (the page's live drag, little work) then waits for the CPU behind two such
requests rather than a dozen, at the same number of requests a second (measured by
``bench/serve_load.py``: ``docs/performance.md``, "Two heavy requests at a time").  Neighbour
searches need no limit: the explorer makes one pass over the index at a time, in a thread of
its own, for every query waiting.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from .. import __version__
from ..errors import VaekitError
from ..jsonio import strict
from . import inputs
from .explorer import DEFAULT_K, MAX_ABS_CODE, MAX_CODES, MAX_K, MAX_STEPS, Explorer, Image
from .images import data_url, from_base64, png_strip, read_upload
from .inputs import BadInput

STATIC = Path(__file__).parent / "static"
MAX_UPLOAD_BYTES = 4 * 1024 * 1024          # an image file, raw or base64-decoded
MAX_JSON_BYTES = 6 * 1024 * 1024            # a JSON body (an upload in base64 is 4/3 of its size)
DRAIN_LIMIT = 64 * 1024 * 1024              # an oversized body up to this size is read to its end before the 413
IMAGE_TYPES = ("image/png", "image/jpeg")
JAVASCRIPT = "text/javascript; charset=utf-8"   # the type of static/**/*.js, whatever mimetypes says
HEAVY_AT_ONCE = 2                           # scores and interpolations computed at once (see the module doc)
log = logging.getLogger("vaekit.serve")


class _Static(StaticFiles):
    """The page's files: ``.js`` always as JavaScript, and revalidated on every load.

    A browser refuses to run a module script served with any other type, and StaticFiles guesses
    types from the machine's table (``mimetypes``: /etc/mime.types, on Windows the registry), which
    can map ``.js`` to text/plain.  ``no-cache`` (a 304 when unchanged, by ETag): without it a
    browser may keep some modules of an older vaekit for a while and fetch the others new.
    """

    def file_response(self, full_path, stat_result, scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if str(full_path).endswith(".js") and response.status_code != 304:
            response.media_type = "text/javascript"          # what a range answer's parts would name
            response.headers["Content-Type"] = JAVASCRIPT
        response.headers["Cache-Control"] = "no-cache"
        return response


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


def _json(obj) -> JSONResponse:
    return JSONResponse(strict(obj))


def _png(png: bytes, **headers: str) -> Response:
    return Response(png, media_type="image/png", headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) once it passes ``limit`` bytes.

    An oversized body is still read to its end (and dropped) up to DRAIN_LIMIT, so that the
    client, still sending, gets the 413 and its message rather than a reset connection.
    """
    declared = request.headers.get("content-length")
    declared = int(declared) if declared is not None and declared.isdigit() else None
    chunks, size = [], 0
    if declared is None or declared <= DRAIN_LIMIT:
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > DRAIN_LIMIT:
                break
    if (declared or 0) > limit or size > limit:
        shown = f"{declared:,} bytes" if declared is not None else "over the limit"
        raise BadInput(f"the request body is {shown}; the limit is {limit:,} bytes", status=413)
    return b"".join(chunks)


async def _json_body(request: Request) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BadInput(f"expected a JSON body (Content-Type: application/json); got {kind or 'no Content-Type'}",
                       status=415)
    raw = await _body(request, MAX_JSON_BYTES)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as e:
        where = f" at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        raise BadInput(f"the body is not valid JSON{where}") from None
    if not isinstance(body, dict):
        raise BadInput(f"expected a JSON object; got {type(body).__name__}")
    return body


def create_app(explorer: Explorer) -> FastAPI:
    """The app serving ``explorer``'s models; run it with uvicorn (``cli/serve.py``)."""
    app = FastAPI(title="vaekit serve", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    n_models = len(explorer.models)
    heavy_limiter: list[anyio.CapacityLimiter] = []   # made on the server's event loop, at first use

    async def heavy(fn, *args):
        """``fn(*args)`` in the thread pool, at most HEAVY_AT_ONCE such calls at a time."""
        if not heavy_limiter:
            heavy_limiter.append(anyio.CapacityLimiter(HEAVY_AT_ONCE))
        return await anyio.to_thread.run_sync(partial(fn, *args), limiter=heavy_limiter[0])

    def model_of(value) -> int:
        return inputs.integer("model", 0 if value is None else value, 0, n_models - 1)

    def label_of(model: int, value, image: Image | None = None, field: str = "label") -> int | None:
        """The class y for ``model`` from a request's ``value``: None for an unconditional model (which
        refuses a label); for a conditional one the label given, else the test image's own label, else
        a refusal naming the field (an upload or a code has no label of its own)."""
        classes = explorer.models[model].classes
        y = inputs.label(value, classes, model, field)
        if y is None and classes is not None:
            if image is not None and image.label is not None:
                return image.label
            raise BadInput(f"{field}: missing; model {model} is conditional on the class: give {field}, a whole "
                           f"number from 0 to {classes - 1} (a test image named by index defaults to its own label)")
        return y

    def image_of(body: dict, what: str = "the request") -> Image:
        """A test image ({"index": i}) or an upload ({"image": base64}) named by ``body``."""
        if not isinstance(body, dict):
            raise BadInput(f"{what}: expected an object {{\"index\": i}} or {{\"image\": \"<base64>\"}}")
        has = [key for key in ("index", "image") if key in body]
        if len(has) != 1:
            raise BadInput(f"{what}: give exactly one of index (a test image, 0 to {len(explorer.test) - 1}) "
                           "or image (a base64 PNG or JPEG)")
        if has[0] == "index":
            return explorer.test_image(inputs.integer("index", body["index"], 0, len(explorer.test) - 1))
        return upload(from_base64(body["image"]))

    def upload(data: bytes) -> Image:
        if len(data) > MAX_UPLOAD_BYTES:
            raise BadInput(f"the image file is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,} bytes", status=413)
        return Image(read_upload(data, explorer.image_shape))

    # ---- errors: one line of JSON, never a traceback ------------------------------------------

    @app.exception_handler(VaekitError)
    async def refused(request: Request, e: VaekitError):
        status = getattr(e, "status", 400)
        response = _error(status, str(e))
        if status in (408, 503):   # the body did not come (guard.py): the rest of it must not be read as a request
            response.headers["Connection"] = "close"
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        if e.status_code == 404:
            return _error(404, f"no such route: {request.method} {request.url.path} (the API is under /api/: info, "
                               "points, decode, encode, interpolate, neighbors, score)")
        if e.status_code == 405:
            allowed = e.headers.get("Allow", "") if e.headers else ""
            return _error(405, f"{request.method} {request.url.path} is not allowed; use {allowed or 'another method'}")
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        return _error(400, f"bad request to {request.url.path}")

    @app.exception_handler(Exception)
    async def failed(request: Request, e: Exception):
        log.exception("request %s %s failed", request.method, request.url.path)
        return _error(500, f"internal error: {type(e).__name__}: {e}")

    # ---- the page ----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", _Static(directory=STATIC), name="static")

    # ---- the API -----------------------------------------------------------------------------

    @app.get("/api/info")
    async def info():
        out = explorer.info()
        out["limits"]["max_upload_bytes"] = MAX_UPLOAD_BYTES
        return _json({"version": __version__, **out})

    @app.get("/api/points")
    async def points(request: Request):
        q = request.query_params
        inputs.only_keys(dict(q), ("model", "projection", "dims"), "the query")
        model = model_of(_query_int(q.get("model"), "model"))
        projection = inputs.choice("projection", q.get("projection", "dims"), ("dims", "pca"))
        dims = None
        if "dims" in q:
            if projection != "dims":
                raise BadInput("dims: only with projection=dims")
            latent = explorer.models[model].latent
            parts = q["dims"].split(",")
            if len(parts) != min(2, latent):
                raise BadInput(f"dims: expected {min(2, latent)} latent dimensions as i,j; got {q['dims']!r}")
            dims = tuple(inputs.integer("dims", _query_int(p, "dims"), 0, latent - 1) for p in parts)
            if len(set(dims)) != len(dims):
                raise BadInput(f"dims: expected two different dimensions; got {q['dims']!r}")
        return _json(await run_in_threadpool(explorer.points, model, projection, dims))

    @app.post("/api/decode")
    async def decode(request: Request):
        body = await _json_body(request)
        inputs.only_keys(body, ("model", "z", "label"))
        model = model_of(body.get("model"))
        if "z" not in body:
            raise BadInput("z: missing; expected a list of numbers (one code) or a list of such lists")
        z, _ = inputs.codes(body["z"], explorer.models[model].latent, MAX_CODES, MAX_ABS_CODE)
        y = label_of(model, body.get("label"))
        images = await run_in_threadpool(explorer.decode, model, z, y)
        return _png(png_strip(images), **{"X-Images": str(len(z))})

    @app.post("/api/sample")
    async def sample(request: Request):
        body = await _json_body(request)
        inputs.only_keys(body, ("model", "n", "seed", "label"))
        model = model_of(body.get("model"))
        n = inputs.integer("n", body.get("n", 8), 1, MAX_CODES)
        seed = inputs.integer("seed", body.get("seed", 0), 0, 2 ** 63 - 1)
        y = label_of(model, body.get("label"))
        images = await run_in_threadpool(explorer.sample, model, n, seed, y)
        return _png(png_strip(images), **{"X-Images": str(n)})

    @app.post("/api/encode")
    async def encode(request: Request):
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in IMAGE_TYPES:   # a raw upload: curl --data-binary @digit.png -H 'Content-Type: image/png'
            q = request.query_params
            inputs.only_keys(dict(q), ("model", "label"), "the query")
            model = model_of(_query_int(q.get("model"), "model"))
            label = _query_int(q.get("label"), "label")
            image = upload(await _body(request, MAX_UPLOAD_BYTES))
        else:
            body = await _json_body(request)
            inputs.only_keys(body, ("model", "index", "image", "label"))
            model = model_of(body.get("model"))
            label = body.get("label")
            image = image_of(body)
        y = label_of(model, label, image)
        out = await run_in_threadpool(explorer.encode, model, image, y)
        log_var = out["log_var"]
        return _json({"m": out["m"].tolist(), "log_var": None if log_var is None else log_var.tolist(),
                      "var": None if log_var is None else log_var.exp().tolist(),
                      "index": image.index, "label": image.label, "y": y,
                      "image": data_url(image.pixels), "reconstruction": data_url(out["reconstruction"])})

    @app.post("/api/score")
    async def score(request: Request):
        body = await _json_body(request)
        inputs.only_keys(body, ("model", "index", "image", "k", "seed", "label"))
        model = model_of(body.get("model"))
        k = inputs.integer("k", body.get("k", DEFAULT_K), 1, MAX_K)
        seed = inputs.integer("seed", body.get("seed", 0), 0, 2 ** 63 - 1)
        image = image_of({key: body[key] for key in ("index", "image") if key in body})
        y = label_of(model, body.get("label"), image)
        return _json({**(await heavy(explorer.score, model, image, k, seed, y)), "y": y})

    @app.post("/api/interpolate")
    async def interpolate(request: Request):
        body = await _json_body(request)
        inputs.only_keys(body, ("model", "a", "b", "steps", "method", "code", "seed", "label"))
        model = model_of(body.get("model"))
        for end in ("a", "b"):
            if end not in body:
                raise BadInput(f"{end}: missing; expected {{\"index\": i}} or {{\"image\": \"<base64>\"}}")
            if isinstance(body[end], dict):   # an end's unknown fields are refused like the request's own
                inputs.only_keys(body[end], ("index", "image", "label"), end)
        a, b = image_of(body["a"], "a"), image_of(body["b"], "b")
        # each end is encoded with its own class; the path is decoded with "label", or the ends' classes mixed
        y_a = label_of(model, body["a"].get("label"), a, "a.label")
        y_b = label_of(model, body["b"].get("label"), b, "b.label")
        y = inputs.label(body.get("label"), explorer.models[model].classes, model)
        steps = inputs.integer("steps", body.get("steps", 10), 2, MAX_STEPS)
        method = inputs.choice("method", body.get("method", "linear"), ("linear", "slerp"))
        code = inputs.choice("code", body.get("code", "mean"), ("mean", "sample"))
        seed = inputs.integer("seed", body.get("seed", 0), 0, 2 ** 63 - 1)
        images, used = await heavy(explorer.interpolate, model, a, b, steps, method, code, seed, y_a, y_b, y)
        return _png(png_strip(images), **{"X-Images": str(steps), "X-Code": used})

    @app.post("/api/neighbors")
    async def neighbors(request: Request):
        body = await _json_body(request)
        inputs.only_keys(body, ("model", "z", "index", "image", "label"))
        model = model_of(body.get("model"))
        if "z" in body:
            if "index" in body or "image" in body:
                raise BadInput("give one of z (a code), index (a test image) or image (an upload)")
            z, _ = inputs.codes(body["z"], explorer.models[model].latent, 1, MAX_ABS_CODE)
            y = label_of(model, body.get("label"))
            query = await run_in_threadpool(explorer.decode, model, z, y)
        else:
            if inputs.label(body.get("label"), explorer.models[model].classes, model) is not None:
                raise BadInput("label: only with z (a code to decode); an image is searched as it is")
            query = image_of(body).pixels
        out = await run_in_threadpool(explorer.neighbors, query)
        out["image"] = data_url(out.pop("nearest"))
        out["query"] = data_url(query)
        return _json(out)

    return app


def _query_int(value: str | None, name: str):
    """A query parameter as an int (None stays None); BadInput names it otherwise."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadInput(f"{name}: expected a whole number; got {value[:40]!r}") from None
