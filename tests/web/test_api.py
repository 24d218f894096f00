"""The API of ``vaekit serve`` against real server processes on loopback: every route, every refusal.

The answers are checked against what the library computes in this process for the same run
(``vaekit.load``, ``vaekit.data.load``), not against the server's own code.
"""

from __future__ import annotations

import base64
import io
import json
import math
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import vaekit
from vaekit.cli.main import main
from vaekit.data import load as load_dataset
from vaekit.data.resize import resize
from vaekit.eval.nearest import nearest_images

from .server import Server


def call(url: str, path: str, body=None, *, raw: bytes | None = None, content_type: str | None = None,
         method: str | None = None):
    """(status, headers, body bytes) of one request; JSON bodies are sent as application/json."""
    data, headers = None, {}
    if body is not None:
        data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
    if raw is not None:
        data = raw
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url + path.lstrip("/"), data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def ok_json(url, path, body=None):
    status, _, data = call(url, path, body)
    assert status == 200, data
    return json.loads(data)


def png(data: bytes) -> np.ndarray:
    """PNG bytes -> (H, W) or (H, W, 3) uint8."""
    return np.asarray(Image.open(io.BytesIO(data)))


def from_data_url(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return png(base64.b64decode(url.split(",", 1)[1]))


def png_bytes(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def local(runs):
    """What this process computes for the same runs: models, the test set and its fixed inputs."""
    test = load_dataset("digits", "test")
    models = {kind: vaekit.load(path) for kind, path in runs.items()}
    return {"models": models, "test": test, "train": load_dataset("digits", "train"),
            "x": {kind: test.model_input(m.likelihood) for kind, m in models.items()}}


# ---------------------------------------------------------------------------------------- info, points


def test_info_describes_each_model(server_two, local):
    info = ok_json(server_two, "/api/info")
    assert [m["kind"] for m in info["models"]] == ["vae", "ae"]
    assert [m["run"] for m in info["models"]] == ["vae", "ae"]
    for i, m in enumerate(info["models"]):
        assert m["index"] == i and m["latent_dim"] == 4 and m["image_shape"] == [1, 8, 8]
        assert m["likelihood"] == "bernoulli" and m["dataset"] == "digits"
        assert m["test_size"] == len(local["test"]) and m["train_size"] == len(local["train"]) and m["has_labels"]
        assert sorted(m["order"]) == [0, 1, 2, 3]
        std = [m["m_std"][d] for d in m["order"]]
        assert std == sorted(std, reverse=True)          # most active first
    assert info["limits"]["max_codes"] >= 64 and info["limits"]["max_upload_bytes"] > 0


def test_points_are_the_test_codes_on_the_plane(server_one, local):
    m, _ = local["models"]["vae"].encode(local["x"]["vae"])
    m = m.detach().double()
    info = ok_json(server_one, "/api/info")["models"][0]
    dims = ok_json(server_one, "/api/points")
    assert dims["projection"] == "dims" and dims["n"] == len(m)
    a, b = info["order"][:2]                              # default: the two most varying dimensions
    assert dims["axes"] == [f"z{a}", f"z{b}"]
    np.testing.assert_allclose(dims["x"], m[:, a], atol=2e-4)
    np.testing.assert_allclose(dims["y"], m[:, b], atol=2e-4)
    assert dims["labels"] == local["test"].labels.tolist()
    chosen = ok_json(server_one, "/api/points?projection=dims&dims=3,0")
    np.testing.assert_allclose(chosen["x"], m[:, 3], atol=2e-4)

    pca = ok_json(server_one, "/api/points?projection=pca")
    basis, center = torch.tensor(pca["basis"], dtype=torch.float64), torch.tensor(pca["center"], dtype=torch.float64)
    np.testing.assert_allclose(basis @ basis.T, torch.eye(2, dtype=torch.float64), atol=1e-5)    # orthonormal
    np.testing.assert_allclose(center, m.mean(0), atol=1e-5)
    xy = (m - center) @ basis.T
    np.testing.assert_allclose(pca["x"], xy[:, 0], atol=2e-4)
    assert np.var(pca["x"]) >= np.var(pca["y"]) - 1e-9      # PC1 carries the most variance
    # PC1 is the direction of largest variance: no coordinate axis spreads the codes more
    assert np.var(pca["x"]) >= m.var(0).max().item() * (1 - 1e-3)


# ---------------------------------------------------------------------------------------- decode, encode


def test_decode_one_code_and_a_strip(server_one, local):
    model = local["models"]["vae"]
    z = torch.tensor([[0.5, -1.0, 0.25, 2.0], [0.0, 0.0, 0.0, 0.0], [-1.5, 1.0, 0.0, 0.5]])
    expected = (model.decode(z).mean.detach().clamp(0, 1) * 255).round().to(torch.uint8)[:, 0].numpy()
    status, headers, one = call(server_one, "/api/decode", {"z": z[0].tolist()})
    assert status == 200 and headers["Content-Type"] == "image/png" and headers["X-Images"] == "1"
    np.testing.assert_allclose(png(one).astype(int), expected[0], atol=1)
    status, headers, strip = call(server_one, "/api/decode", {"z": z.tolist(), "model": 0})
    assert headers["X-Images"] == "3" and png(strip).shape == (8, 24)
    np.testing.assert_allclose(png(strip).astype(int), np.concatenate(list(expected), axis=1), atol=1)


def test_encode_a_test_image_gives_the_models_code(server_two, local):
    i = 7
    for index, kind in enumerate(("vae", "ae")):
        out = ok_json(server_two, "/api/encode", {"model": index, "index": i})
        m, log_var = local["models"][kind].encode(local["x"][kind][i:i + 1])
        np.testing.assert_allclose(out["m"], m[0].detach(), atol=1e-5)
        if kind == "vae":
            np.testing.assert_allclose(out["log_var"], log_var[0].detach(), atol=1e-5)
            np.testing.assert_allclose(out["var"], log_var[0].detach().exp(), rtol=1e-5)
        else:
            assert out["log_var"] is None and out["var"] is None
        assert out["index"] == i and out["label"] == int(local["test"].labels[i])
        np.testing.assert_array_equal(from_data_url(out["image"]), local["test"].images[i, 0].numpy())
        # the reconstruction is the decode of m
        _, _, decoded = call(server_two, "/api/decode", {"model": index, "z": out["m"]})
        np.testing.assert_array_equal(from_data_url(out["reconstruction"]), png(decoded))


def test_encode_an_upload_raw_or_base64(server_one, local):
    pixels = local["test"].images[5, 0].numpy()
    raw = png_bytes(pixels)
    status, _, data = call(server_one, "/api/encode?model=0", raw=raw, content_type="image/png")
    assert status == 200, data
    out = json.loads(data)
    assert out["index"] is None and out["label"] is None
    np.testing.assert_array_equal(from_data_url(out["image"]), pixels)       # same size: used as it is
    b64 = ok_json(server_one, "/api/encode", {"image": "data:image/png;base64," + base64.b64encode(raw).decode()})
    assert b64["m"] == out["m"]                                                 # the same seeded binarisation
    # a larger RGB image is converted to grey and resized to 8x8 as datasets are resized (data.resize)
    big = np.kron(pixels, np.ones((8, 8), dtype=np.uint8))                     # 64x64, each pixel an 8x8 block
    expected = resize(torch.from_numpy(big)[None, None], (8, 8))[0, 0].numpy()
    status, _, data = call(server_one, "/api/encode", raw=png_bytes(np.stack([big] * 3, -1)), content_type="image/png")
    np.testing.assert_array_equal(from_data_url(json.loads(data)["image"]), expected)
    jpeg = io.BytesIO()
    Image.fromarray(np.stack([big] * 3, -1)).save(jpeg, format="JPEG", quality=95)
    status, _, data = call(server_one, "/api/encode", raw=jpeg.getvalue(), content_type="image/jpeg")
    seen = from_data_url(json.loads(data)["image"])
    assert status == 200 and seen.shape == (8, 8)
    assert np.abs(seen.astype(int) - expected.astype(int)).mean() < 3          # JPEG's loss: close, not equal


# ---------------------------------------------------------------------------------------- score


def test_score_of_a_vae_adds_up_and_matches_the_library(server_one, local):
    i = 11
    out = ok_json(server_one, "/api/score", {"index": i, "k": 2000})
    assert out["units"] == "nats per example" and out["k"] == 2000 and out["kind"] == "vae"
    enc = ok_json(server_one, "/api/encode", {"index": i})
    m, log_var = np.array(enc["m"]), np.array(enc["log_var"])
    kl = 0.5 * (np.exp(log_var) - (1 + log_var) + m ** 2)          # the lecture's penalty, per dimension
    np.testing.assert_allclose(out["kl_per_dim"], kl, rtol=1e-4, atol=1e-6)
    assert out["kl"] == pytest.approx(kl.sum(), rel=1e-4)
    assert out["elbo"] == pytest.approx(out["recon"] - out["kl"], abs=1e-6)
    # log p(x) by the library at a larger k, with other draws: the same up to the estimators' noise
    g = torch.Generator().manual_seed(123)
    reference = local["models"]["vae"].log_prob(local["x"]["vae"][i:i + 1], k=20000, generator=g).item()
    assert out["log_px"] == pytest.approx(reference, abs=0.15)
    assert out["elbo"] <= out["log_px"] + 0.05                     # the bound is below log p(x)
    # seeded: the same request gives the same answer
    assert ok_json(server_one, "/api/score", {"index": i, "k": 2000}) == out


def test_score_of_an_ae_is_its_reconstruction_term(server_two, local):
    out = ok_json(server_two, "/api/score", {"model": 1, "index": 2})
    assert out["kind"] == "ae" and out["elbo"] is None and out["kl"] is None and out["log_px"] is None
    model = local["models"]["ae"]
    x = local["x"]["ae"][2:3]
    expected = model.decode(model.encode(x)[0]).log_prob(x).item()
    assert out["recon"] == pytest.approx(expected, abs=1e-4)


# ---------------------------------------------------------------------------------------- interpolate


def test_interpolation_runs_from_one_code_to_the_other(server_two):
    a, b = 3, 40
    ends = [ok_json(server_two, "/api/encode", {"index": i})["m"] for i in (a, b)]
    for method in ("linear", "slerp"):
        status, headers, data = call(server_two, "/api/interpolate",
                                     {"a": {"index": a}, "b": {"index": b}, "steps": 7, "method": method})
        assert status == 200 and headers["X-Images"] == "7" and headers["X-Code"] == "mean"
        strip = png(data)
        assert strip.shape == (8, 56)
        _, _, first_last = call(server_two, "/api/decode", {"z": ends})
        np.testing.assert_array_equal(strip[:, :8], png(first_last)[:, :8])     # starts at a's code
        np.testing.assert_array_equal(strip[:, -8:], png(first_last)[:, 8:])    # ends at b's
    _, _, linear = call(server_two, "/api/interpolate", {"a": {"index": a}, "b": {"index": b}, "steps": 3})
    midpoint = (np.array(ends[0]) + np.array(ends[1])) / 2
    _, _, mid = call(server_two, "/api/decode", {"z": midpoint.tolist()})
    np.testing.assert_allclose(png(linear)[:, 8:16].astype(int), png(mid).astype(int), atol=1)
    # sampled codes: seeded, and different from the mean path; an AE has no noise and says so
    body = {"a": {"index": a}, "b": {"index": b}, "steps": 5, "code": "sample", "seed": 3}
    s1, s2 = call(server_two, "/api/interpolate", body), call(server_two, "/api/interpolate", body)
    assert s1[1]["X-Code"] == "sample" and s1[2] == s2[2]
    assert s1[2] != call(server_two, "/api/interpolate", {**body, "code": "mean"})[2]
    status, headers, _ = call(server_two, "/api/interpolate", {**body, "model": 1})
    assert status == 200 and headers["X-Code"] == "mean"


def test_slerp_keeps_the_norm_between_two_codes_of_equal_norm():
    from vaekit.web.explorer import path

    a, b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    codes = path(a, b, 5, "slerp")
    np.testing.assert_allclose(codes.norm(dim=1), 3.0, rtol=1e-6)
    np.testing.assert_allclose(codes[2], [3 / math.sqrt(2)] * 2, rtol=1e-6)
    np.testing.assert_allclose(path(a, b, 5, "linear")[2], [1.5, 1.5])
    np.testing.assert_allclose(path(a, a, 3, "slerp"), a.expand(3, 2))    # no angle: no division by sin 0


# ---------------------------------------------------------------------------------------- neighbors


def test_neighbors_finds_a_training_copy_and_places_a_test_image(server_one, local):
    train = local["train"].images
    j = 123
    out = ok_json(server_one, "/api/neighbors", {"image": base64.b64encode(png_bytes(train[j, 0].numpy())).decode()})
    assert out["distance"] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_array_equal(train[out["index"]], train[j])       # itself, or an identical copy
    np.testing.assert_array_equal(from_data_url(out["image"]), train[j, 0].numpy())
    assert out["reference"]["fraction_closer"] == 0.0         # no real test image is a copy of a training image
    i = 17
    out = ok_json(server_one, "/api/neighbors", {"index": i})
    d, index = nearest_images(local["test"].images[i:i + 1], train)
    assert out["distance"] == pytest.approx(d.item(), abs=1e-6) and out["index"] == index.item()
    assert out["label"] == int(local["train"].labels[out["index"]])
    ref = out["reference"]
    assert ref["n"] == len(local["test"]) and sum(ref["counts"]) == ref["n"]
    assert len(ref["edges"]) == len(ref["counts"]) + 1 and 0 < ref["fraction_closer"] <= 1
    assert out["units"].startswith("RMS pixel distance")


def test_neighbors_of_a_code_searches_its_decode(server_one, local):
    z = [0.3, -0.2, 1.0, 0.0]
    out = ok_json(server_one, "/api/neighbors", {"z": z})
    decoded = local["models"]["vae"].decode(torch.tensor([z])).mean.detach()
    d, index = nearest_images(decoded, local["train"].images)
    assert out["index"] == index.item() and out["distance"] == pytest.approx(d.item(), abs=1e-5)
    np.testing.assert_allclose(from_data_url(out["query"]).astype(int),
                               (decoded[0, 0] * 255).round().numpy(), atol=1)


def test_concurrent_neighbor_searches_get_their_own_answers(server_one):
    """Searches waiting at once are made in one pass over the index: each must still get its own answer."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [{"index": i} for i in range(0, 48, 3)] + [{"z": [0.1 * i, -0.2, 0.3, 0.05 * i]} for i in range(8)]
    alone = [ok_json(server_one, "/api/neighbors", body) for body in bodies]
    with ThreadPoolExecutor(len(bodies)) as pool:
        together = list(pool.map(lambda body: ok_json(server_one, "/api/neighbors", body), bodies))
    for a, b in zip(alone, together):
        assert (a["index"], a["distance"], a["query"]) == (b["index"], b["distance"], b["query"])


# ---------------------------------------------------------------------------------------- refusals


def _tiny_png(size=(8, 8)) -> str:
    return base64.b64encode(png_bytes(np.zeros(size[::-1], dtype=np.uint8))).decode()


def test_samples_come_from_the_models_prior_seeded(server_two, local):
    """/api/sample: n codes from the model's own prior, decoded; the same seed draws the same codes."""
    model = local["models"]["vae"]
    z = model.prior.sample(5, torch.Generator().manual_seed(7))
    expected = (model.decode(z).mean.detach().clamp(0, 1) * 255).round().to(torch.uint8)[:, 0].numpy()
    status, headers, strip = call(server_two, "/api/sample", {"model": 0, "n": 5, "seed": 7})
    assert status == 200 and headers["Content-Type"] == "image/png" and headers["X-Images"] == "5"
    np.testing.assert_allclose(png(strip).astype(int), np.concatenate(list(expected), axis=1), atol=1)
    assert call(server_two, "/api/sample", {"model": 0, "n": 5, "seed": 7})[2] == strip
    assert call(server_two, "/api/sample", {"model": 0, "n": 5, "seed": 8})[2] != strip
    _, headers, ae = call(server_two, "/api/sample", {"model": 1, "seed": 7})   # an AE: N(0, I), 8 by default
    assert headers["X-Images"] == "8" and png(ae).shape == (8, 64)


BAD = [
    # (path, body, status, words the message must hold)
    ("/api/sample", {"n": 0}, 400, "n must be an integer in [1, 256]; got 0"),
    ("/api/sample", {"n": 8, "seed": -1}, 400, "seed must be an integer in [0, 9223372036854775807]; got -1"),
    ("/api/sample", {"n": 8, "label": 3}, 400, "label: model 0 is not conditional"),
    ("/api/sample", {"n": 8, "z": [0, 0, 0, 0]}, 400, "unknown field 'z'"),
    ("/api/decode", {"z": [0, 0]}, 400, "expected 4 numbers"),
    ("/api/decode", {"z": [[0, 0, 0, 0], [0, 0, 0]]}, 400, "z[1]: expected 4 numbers"),
    ("/api/decode", {"z": [0, "1", 0, 0]}, 400, "z[1] must be a finite number in [-10000, 10000]; got '1'"),
    ("/api/decode", {"z": [0, True, 0, 0]}, 400, "z[1] must be a finite number in [-10000, 10000]; got True"),
    ("/api/decode", {"z": [[0, 0, 0, 0]] * 257}, 400, "at most 256"),
    ("/api/decode", {"z": []}, 400, "expected a list of 4 numbers"),
    ("/api/decode", {"z": "0,0,0,0"}, 400, "expected a list"),
    ("/api/decode", {}, 400, "z: missing"),
    ("/api/decode", {"z": [0, 0, 0, 0], "model": 1}, 400, "model must be an integer in [0, 0]; got 1"),
    ("/api/decode", {"z": [0, 0, 0, 0], "zz": 1}, 400, "unknown field 'zz'"),
    ("/api/encode", {"index": 359}, 400, "index must be an integer in [0, 358]; got 359"),
    ("/api/encode", {"index": -1}, 400, "index must be an integer in [0, 358]; got -1"),
    ("/api/encode", {"index": 1.5}, 400, "index must be an integer in [0, 358]; got 1.5"),
    ("/api/encode", {}, 400, "exactly one of index"),
    ("/api/encode", {"index": 1, "image": _tiny_png()}, 400, "exactly one of index"),
    ("/api/encode", {"image": "%%%"}, 400, "not valid base64"),
    ("/api/encode", {"image": base64.b64encode(b"just some text").decode()}, 415, "not a PNG or JPEG"),
    ("/api/encode", {"image": _tiny_png((200, 8))}, 400, "resizing would distort"),
    ("/api/score", {"index": 0, "k": 0}, 400, "k must be an integer in [1, 5000]; got 0"),
    ("/api/score", {"index": 0, "k": 10 ** 6}, 400, "k must be an integer in [1, 5000]; got 1000000"),
    ("/api/interpolate", {"a": {"index": 0}}, 400, "b: missing"),
    ("/api/interpolate", {"a": {"index": 0}, "b": {"index": 1}, "steps": 1}, 400, "steps must be an integer in [2, 64]; got 1"),
    ("/api/interpolate", {"a": {"index": 0}, "b": {"index": 1}, "steps": 1000}, 400, "steps must be an integer in [2, 64]; got 1000"),
    ("/api/interpolate", {"a": {"index": 0}, "b": {"index": 1}, "method": "cubic"}, 400, "method: expected one of linear, slerp"),
    ("/api/interpolate", {"a": 0, "b": {"index": 1}}, 400, "a: expected an object"),
    ("/api/neighbors", {"z": [[0, 0, 0, 0], [0, 0, 0, 0]]}, 400, "at most 1"),
    ("/api/neighbors", {"z": [0, 0, 0, 0], "index": 1}, 400, "give one of z"),
    # huge finite codes: outside the documented range, refused before the model sees them
    ("/api/decode", {"z": [1e308, 0, 0, 0]}, 400, "z[0] must be a finite number in [-10000, 10000]; got 1e+308"),
    ("/api/decode", {"z": [[0, 0, 0, 0], [0, -3e38, 0, 0]]}, 400, "z[1][1] must be a finite number in [-10000, 10000]; got -3e+38"),
    ("/api/decode", {"z": [10 ** 400, 0, 0, 0]}, 400, "z[0] must be a finite number in [-10000, 10000]; got an integer of 401 digits"),
    ("/api/decode", {"z": [0, 10001, 0, 0]}, 400, "z[1] must be a finite number in [-10000, 10000]; got 10001"),
    ("/api/neighbors", {"z": [0, 0, 0, 1e308]}, 400, "z[3] must be a finite number in [-10000, 10000]; got 1e+308"),
    ("/api/neighbors", {"z": [0, 0, -(10 ** 400), 0]}, 400, "z[2] must be a finite number in [-10000, 10000]; got an integer of 401 digits"),
    # the fields of a and b are checked like the request's own
    ("/api/interpolate", {"a": {"index": 0, "indx": 3}, "b": {"index": 1}}, 400, "a: unknown field 'indx'"),
    ("/api/interpolate", {"a": {"index": 0}, "b": {"image": _tiny_png(), "size": 8}}, 400, "b: unknown field 'size'"),
]


@pytest.mark.parametrize("path, body, status, words", BAD, ids=[f"{p}:{w}" for p, _, _, w in BAD])
def test_bad_input_is_a_one_line_4xx(server_one, path, body, status, words):
    got, headers, data = call(server_one, path, body)
    assert got == status, data
    assert headers["Content-Type"] == "application/json"
    message = json.loads(data)["error"]
    assert words in message and "\n" not in message


def test_codes_at_the_edge_of_the_range_decode(server_one, local):
    z = torch.tensor([[10000.0, -10000.0, 0.0, 0.0]])
    expected = (local["models"]["vae"].decode(z).mean.detach().clamp(0, 1) * 255).round().to(torch.uint8)[0, 0]
    status, _, data = call(server_one, "/api/decode", {"z": z[0].tolist()})
    assert status == 200, data
    np.testing.assert_allclose(png(data).astype(int), expected.numpy(), atol=1)
    assert ok_json(server_one, "/api/info")["limits"]["max_abs_code"] == 10000
    assert ok_json(server_one, "/api/neighbors", {"z": [-10000, 10000, 0, 0]})["distance"] >= 0


def test_malformed_requests_and_unknown_routes(server_one):
    cases = [
        (call(server_one, "/api/decode", raw=b'{"z": [NaN, 0, 0, 0]}', content_type="application/json"),
         400, "finite number"),
        (call(server_one, "/api/decode", raw=b'{"z": [1e999, 0, 0, 0]}', content_type="application/json"),
         400, "finite number"),
        (call(server_one, "/api/decode", raw=b"{not json", content_type="application/json"), 400, "not valid JSON"),
        (call(server_one, "/api/decode", raw=b"[1, 2]", content_type="application/json"), 400, "JSON object"),
        (call(server_one, "/api/decode", raw=b"z=1", content_type="text/plain"), 415, "Content-Type: application/json"),
        (call(server_one, "/api/nothing-here"), 404, "no such route: GET /api/nothing-here"),
        (call(server_one, "/api/decode"), 405, "use POST"),
        (call(server_one, "/api/info", raw=b"{}", content_type="application/json", method="POST"), 405, "use GET"),
        (call(server_one, "/api/points?projection=tsne"), 400, "projection: expected one of dims, pca"),
        (call(server_one, "/api/points?dims=1"), 400, "dims: expected 2"),
        (call(server_one, "/api/points?dims=1,9"), 400, "dims must be an integer in [0, 3]; got 9"),
        (call(server_one, "/api/points?model=x"), 400, "model: expected a whole number"),
        (call(server_one, "/api/encode", raw=b"GIF89a not really", content_type="image/png"), 415, "not a PNG or JPEG"),
        (call(server_one, "/api/encode", raw=b"\0" * (4 * 1024 * 1024 + 1), content_type="image/png"), 413,
         "the limit is 4,194,304 bytes"),
    ]
    for (status, headers, data), want, words in cases:
        assert status == want, data
        message = json.loads(data)["error"]
        assert words in message and "\n" not in message, message
    # a PNG bomb: a tiny file that decodes to a huge image is refused before it is decoded whole
    bomb = io.BytesIO()
    Image.new("L", (10000, 10000)).save(bomb, format="PNG")
    status, _, data = call(server_one, "/api/encode", raw=bomb.getvalue(), content_type="image/png")
    assert status == 400 and "at most 16,777,216 pixels" in json.loads(data)["error"]
    # and after all of that, the server still answers
    assert ok_json(server_one, "/api/info")["models"][0]["kind"] == "vae"


def test_the_page_and_its_files_are_served(server_one):
    status, headers, page = call(server_one, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js"></script>' in page.decode()
    assert '<link rel="stylesheet" href="/static/style.css">' in page.decode()
    status, headers, _ = call(server_one, "/static/style.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    # every module, with a JavaScript type: a browser refuses a module script served as anything else
    static = Path(vaekit.__file__).parent / "web" / "static"
    modules = sorted(p.relative_to(static).as_posix() for p in static.rglob("*.js"))
    assert {"js/main.js", "js/api.js"} <= set(modules)
    for name in modules:
        status, headers, _ = call(server_one, f"/static/{name}")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript"), (name, headers["Content-Type"])
    status, _, data = call(server_one, "/static/missing.js")
    assert status == 404 and "no such route" in json.loads(data)["error"]


# ---------------------------------------------------------------------------------------- the command


def _serve(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "vaekit", "serve", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def test_serve_refuses_what_it_cannot_show(runs, tmp_path, capsys):
    """Each refusal is one line and exit 2, before anything listens (the command's own main, in this
    process: the port and signal tests below run the real process)."""
    gmm, small = tmp_path / "gmm", tmp_path / "small"
    assert main(["gmm", "--data", "digits", "--components", "2", "--max-iter", "2", "--out", str(gmm)]) == 0
    assert main(["train", "--data", "digits", "--image-size", "6", "--epochs", "1", "--latent", "2", "--hidden", "8",
                 "--log-px-every", "0", "--out", str(small)]) == 0
    capsys.readouterr()
    cases = [
        ((gmm,), "Gaussian mixture run"),
        ((tmp_path / "nothing",), "nothing"),
        ((runs["vae"], small), "must be trained on the same data"),
        ((runs["vae"], runs["ae"], runs["vae"]), "one or two run directories; got 3"),
        ((runs["vae"], "--port", "70000"), "--port must be an integer in [0, 65535]; got 70000"),
        ((runs["vae"], "--host", "no.such.host.invalid"), "--host no.such.host.invalid"),
    ]
    for args, words in cases:
        args = args if "--port" in args else (*args, "--port", "0")
        code = main(["serve", *map(str, args)])
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert words in err and err.count("\n") == 1, err


def test_serve_says_when_the_port_is_taken_and_when_it_listens_beyond_this_machine(runs):
    with Server([runs["vae"]]) as first:
        port = first.url.rsplit(":", 1)[1].strip("/")
        r = _serve(runs["vae"], "--port", port)
        assert r.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in r.stderr
    with Server([runs["vae"]], "--host", "0.0.0.0") as server:
        assert any("reachable from other machines" in line for line in server.output)
        port = server.url.rsplit(":", 1)[1].strip("/")
        assert ok_json(f"http://127.0.0.1:{port}/", "/api/info")["models"][0]["kind"] == "vae"
