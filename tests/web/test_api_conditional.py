"""The API of ``vaekit serve`` for a conditional run (``--condition label``), beside an unconditional one.

Model 0 is the conditional VAE, q(z|x, y) and p(x|z, y); model 1 the plain VAE. Every route that
encodes or decodes takes ``label``, the class y: a test image named by index defaults to its own,
anything else must name one; the unconditional model refuses it. Answers are checked against what
the library computes in this process for the same run.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch

import vaekit
from vaekit.data import load as load_dataset

from .test_api import call, from_data_url, ok_json, png, png_bytes


@pytest.fixture(scope="module")
def cond(conditional):
    """The conditional model as this process loads it, and the digits' test set with its fixed inputs."""
    model = vaekit.load(conditional)
    test = load_dataset("digits", "test")
    return {"model": model, "test": test, "x": test.model_input(model.likelihood), "labels": test.labels}


def _decoded(model, z, y: int) -> np.ndarray:
    """E[x|z, y] of one code or several, every one of class y, as the server's PNG pixels: (n, H, W) uint8."""
    z = torch.as_tensor(z, dtype=torch.float32).reshape(-1, model.latent_dim)
    mean = model.decode(z, y=torch.full((len(z),), y)).mean.detach()
    return (mean.clamp(0, 1) * 255).round().to(torch.uint8)[:, 0].numpy()


def test_info_says_which_model_is_conditional(server_cond, cond):
    models = ok_json(server_cond, "/api/info")["models"]
    assert [(m["condition"], m["classes"]) for m in models] == [("label", 10), ("none", None)]
    assert models[0]["start_label"] == int(cond["labels"][0]) and models[1]["start_label"] is None
    # start is test image 0's code under its own label
    m, _ = cond["model"].encode(cond["x"][:1], cond["labels"][:1])
    np.testing.assert_allclose(models[0]["start"], m[0].detach(), atol=1e-4)


def test_points_are_each_test_image_s_code_under_its_own_label(server_cond, cond):
    m, _ = cond["model"].encode(cond["x"], cond["labels"])
    dims = ok_json(server_cond, "/api/points?model=0&projection=dims&dims=0,1")
    np.testing.assert_allclose(dims["x"], m[:, 0].detach(), atol=2e-4)
    np.testing.assert_allclose(dims["y"], m[:, 1].detach(), atol=2e-4)


def test_decode_takes_the_class(server_cond, cond):
    z = [[0.5, -1.0, 0.25, 2.0], [0.0, 0.0, 0.0, 0.0]]
    strips = {}
    for y in (0, 3, 9):
        status, headers, data = call(server_cond, "/api/decode", {"model": 0, "z": z, "label": y})
        assert status == 200 and headers["X-Images"] == "2", data
        strips[y] = png(data)
        np.testing.assert_allclose(strips[y].astype(int), np.concatenate(list(_decoded(cond["model"], z, y)), axis=1),
                                   atol=1)
    assert not np.array_equal(strips[0], strips[3]) and not np.array_equal(strips[3], strips[9])
    # the unconditional model beside it decodes as before, without a label
    status, _, data = call(server_cond, "/api/decode", {"model": 1, "z": z})
    assert status == 200, data


def test_encode_defaults_to_the_test_image_s_own_label(server_cond, cond):
    i = 7
    own = int(cond["labels"][i])
    other = (own + 1) % 10
    for label, y in ((None, own), (own, own), (other, other)):
        body = {"model": 0, "index": i} if label is None else {"model": 0, "index": i, "label": label}
        out = ok_json(server_cond, "/api/encode", body)
        assert out["y"] == y and out["label"] == own and out["index"] == i
        m, log_var = cond["model"].encode(cond["x"][i:i + 1], torch.tensor([y]))
        np.testing.assert_allclose(out["m"], m[0].detach(), atol=1e-5)
        np.testing.assert_allclose(out["log_var"], log_var[0].detach(), atol=1e-5)
        np.testing.assert_array_equal(from_data_url(out["reconstruction"]), _decoded(cond["model"], out["m"], y)[0])
    assert ok_json(server_cond, "/api/encode", {"model": 1, "index": i})["y"] is None      # unconditional


def test_an_upload_is_encoded_with_the_label_it_is_given(server_cond, cond):
    pixels = cond["test"].images[5, 0].numpy()
    raw = png_bytes(pixels)
    status, _, data = call(server_cond, "/api/encode?model=0&label=4", raw=raw, content_type="image/png")
    assert status == 200, data
    out = json.loads(data)
    assert out["y"] == 4 and out["index"] is None and out["label"] is None
    b64 = ok_json(server_cond, "/api/encode", {"model": 0, "label": 4, "image": base64.b64encode(raw).decode()})
    assert b64["m"] == out["m"]
    other = ok_json(server_cond, "/api/encode", {"model": 0, "label": 2, "image": base64.b64encode(raw).decode()})
    assert other["m"] != out["m"]                                                # q(z|x, y) depends on y
    # and the score of the same upload given the same label
    score = ok_json(server_cond, "/api/score", {"model": 0, "label": 4, "image": base64.b64encode(raw).decode()})
    assert score["y"] == 4 and np.isfinite(score["log_px"])


def test_score_is_given_the_class(server_cond, cond):
    i = 11
    own = int(cond["labels"][i])
    default = ok_json(server_cond, "/api/score", {"index": i, "k": 500})
    assert default["y"] == own and ok_json(server_cond, "/api/score", {"index": i, "k": 500, "label": own}) == default
    enc = ok_json(server_cond, "/api/encode", {"index": i})
    m, log_var = np.array(enc["m"]), np.array(enc["log_var"])
    np.testing.assert_allclose(default["kl_per_dim"], 0.5 * (np.exp(log_var) - (1 + log_var) + m ** 2), rtol=1e-4,
                               atol=1e-6)
    g = torch.Generator().manual_seed(5)
    reference = cond["model"].log_prob(cond["x"][i:i + 1], k=5000, generator=g, y=cond["labels"][i:i + 1]).item()
    assert default["log_px"] == pytest.approx(reference, abs=0.3)                 # log p(x|y), its own label
    # the image under each class: log p(x|y), one number per class
    others = {y: ok_json(server_cond, "/api/score", {"index": i, "k": 500, "label": y})["log_px"] for y in range(10)}
    assert others[own] == pytest.approx(default["log_px"]) and len(set(others.values())) == 10
    unconditional = ok_json(server_cond, "/api/score", {"model": 1, "index": i})
    assert unconditional["y"] is None and np.isfinite(unconditional["log_px"])


def test_interpolation_encodes_each_end_with_its_class_and_decodes_the_path_with_the_label(server_cond, cond):
    a, b = 3, 40
    ya, yb = int(cond["labels"][a]), int(cond["labels"][b])
    ends = [ok_json(server_cond, "/api/encode", {"index": i})["m"] for i in (a, b)]
    model = cond["model"]
    for y in (0, 6):
        status, _, data = call(server_cond, "/api/interpolate", {"a": {"index": a}, "b": {"index": b}, "steps": 4,
                                                                 "label": y})
        assert status == 200, data
        strip = png(data)
        first, last = _decoded(model, ends, y)
        np.testing.assert_allclose(strip[:, :8].astype(int), first.astype(int), atol=1)      # a's code, class y
        np.testing.assert_allclose(strip[:, -8:].astype(int), last.astype(int), atol=1)      # b's code, class y
    # no label: the ends' own classes, mixed along the path (as VAE.interpolate)
    status, _, data = call(server_cond, "/api/interpolate", {"a": {"index": a}, "b": {"index": b}, "steps": 4})
    assert status == 200, data
    strip = png(data)
    np.testing.assert_allclose(strip[:, :8].astype(int), _decoded(model, ends[0], ya)[0].astype(int), atol=1)
    np.testing.assert_allclose(strip[:, -8:].astype(int), _decoded(model, ends[1], yb)[0].astype(int), atol=1)
    library = model.interpolate(cond["x"][a:a + 1], cond["x"][b:b + 1], 4, y_a=ya, y_b=yb)[0, :, 0]
    np.testing.assert_allclose(strip.astype(int), (library.clamp(0, 1) * 255).round().permute(1, 0, 2)
                               .reshape(8, 32).numpy().astype(int), atol=1)
    # an end's own label can be named: a encoded as another class moves the path's start
    moved = call(server_cond, "/api/interpolate", {"a": {"index": a, "label": (ya + 1) % 10}, "b": {"index": b},
                                                   "steps": 4, "label": 0})
    assert moved[0] == 200 and not np.array_equal(png(moved[2]), png(call(
        server_cond, "/api/interpolate", {"a": {"index": a}, "b": {"index": b}, "steps": 4, "label": 0})[2]))


def test_neighbors_of_a_code_decode_it_with_the_label(server_cond, cond):
    z = [0.3, -0.2, 1.0, 0.0]
    out = ok_json(server_cond, "/api/neighbors", {"model": 0, "z": z, "label": 8})
    np.testing.assert_allclose(from_data_url(out["query"]).astype(int), _decoded(cond["model"], z, 8)[0].astype(int),
                               atol=1)
    assert ok_json(server_cond, "/api/neighbors", {"model": 0, "index": 4})["distance"] >= 0    # an image: no label


BAD = [
    # (path, body, words the message must hold): refused with a 400 and one line
    ("/api/decode", {"model": 0, "z": [0, 0, 0, 0]}, "label: missing; model 0 is conditional on the class"),
    ("/api/decode", {"model": 0, "z": [0, 0, 0, 0], "label": 10}, "label must be an integer in [0, 9]; got 10"),
    ("/api/decode", {"model": 0, "z": [0, 0, 0, 0], "label": -1}, "label must be an integer in [0, 9]; got -1"),
    ("/api/decode", {"model": 0, "z": [0, 0, 0, 0], "label": "3"}, "label must be an integer in [0, 9]; got '3'"),
    ("/api/decode", {"model": 0, "z": [0, 0, 0, 0], "label": 2.5}, "label must be an integer in [0, 9]; got 2.5"),
    ("/api/decode", {"model": 0, "z": [0, 0, 0, 0], "label": True}, "label must be an integer in [0, 9]; got True"),
    ("/api/decode", {"model": 1, "z": [0, 0, 0, 0], "label": 3}, "label: model 1 is not conditional"),
    ("/api/encode", {"model": 0, "image": "data:image/png;base64," + base64.b64encode(png_bytes(
        np.zeros((8, 8), dtype=np.uint8))).decode()}, "label: missing; model 0 is conditional"),
    ("/api/encode", {"model": 0, "index": 1, "label": 12}, "label must be an integer in [0, 9]; got 12"),
    ("/api/encode", {"model": 1, "index": 1, "label": 0}, "label: model 1 is not conditional"),
    ("/api/score", {"model": 0, "index": 1, "label": 10}, "label must be an integer in [0, 9]; got 10"),
    ("/api/score", {"model": 1, "index": 1, "label": 0}, "label: model 1 is not conditional"),
    ("/api/interpolate", {"a": {"index": 0}, "b": {"index": 1}, "label": 10}, "label must be an integer in [0, 9]; got 10"),
    ("/api/interpolate", {"a": {"index": 0, "label": 11}, "b": {"index": 1}}, "a.label must be an integer in [0, 9]; got 11"),
    ("/api/interpolate", {"a": {"index": 0}, "b": {"image": base64.b64encode(png_bytes(
        np.zeros((8, 8), dtype=np.uint8))).decode()}}, "b.label: missing; model 0 is conditional"),
    ("/api/interpolate", {"model": 1, "a": {"index": 0}, "b": {"index": 1}, "label": 2},
     "label: model 1 is not conditional"),
    ("/api/interpolate", {"model": 1, "a": {"index": 0, "label": 2}, "b": {"index": 1}},
     "a.label: model 1 is not conditional"),
    ("/api/neighbors", {"model": 0, "z": [0, 0, 0, 0]}, "label: missing; model 0 is conditional"),
    ("/api/neighbors", {"model": 0, "index": 2, "label": 2}, "label: only with z"),
    ("/api/neighbors", {"model": 1, "z": [0, 0, 0, 0], "label": 2}, "label: model 1 is not conditional"),
]


@pytest.mark.parametrize("path, body, words", BAD, ids=[f"{p}:{w}" for p, _, w in BAD])
def test_a_bad_label_is_a_one_line_400(server_cond, path, body, words):
    status, headers, data = call(server_cond, path, body)
    assert status == 400, data
    message = json.loads(data)["error"]
    assert words in message and "\n" not in message, message


def test_a_bad_label_in_the_query_of_a_raw_upload(server_cond, cond):
    raw = png_bytes(cond["test"].images[5, 0].numpy())
    for query, words in (("model=0", "label: missing"), ("model=0&label=x", "label: expected a whole number"),
                         ("model=0&label=10", "label must be an integer in [0, 9]; got 10"),
                         ("model=1&label=1", "label: model 1 is not conditional")):
        status, _, data = call(server_cond, f"/api/encode?{query}", raw=raw, content_type="image/png")
        assert status == 400 and words in json.loads(data)["error"], (query, data)


def test_the_unconditional_server_refuses_a_label(server_one):
    status, _, data = call(server_one, "/api/decode", {"z": [0, 0, 0, 0], "label": 0})
    assert status == 400 and "label: model 0 is not conditional" in json.loads(data)["error"]
    assert ok_json(server_one, "/api/info")["models"][0]["condition"] == "none"
