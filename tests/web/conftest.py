"""Real ``vaekit serve`` processes on free loopback ports, over two tiny runs trained on digits.

    runs          {"vae": Path, "ae": Path}: a VAE and a plain AE, same data, 4-d codes (~10 s to train)
    conditional   a conditional VAE (--condition label) on the same data, 4-d codes
    server_one    the URL of a server showing the VAE
    server_two    the URL of a server showing the VAE and the AE side by side
    server_cond   the URL of a server showing the conditional VAE and the (unconditional) VAE side by side
    server_parts  the URL of a server showing a two-layer VAE and a VAE with a learned mixture prior
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from browsers import browser_or_skip

from .server import Server

TRAIN = ["--data", "digits", "--epochs", "3", "--latent", "4", "--hidden", "64", "--log-px-every", "0", "--seed", "0"]


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serve-runs")
    out = {}
    for kind in ("vae", "ae"):
        out[kind] = root / kind
        subprocess.run([sys.executable, "-m", "vaekit", "train", *TRAIN, "--model", kind, "--out", str(out[kind])],
                       check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="session")
def conditional(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serve-runs-conditional") / "cvae"
    subprocess.run([sys.executable, "-m", "vaekit", "train", *TRAIN, "--condition", "label", "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="session")
def server_one(runs):
    with Server([runs["vae"]]) as server:
        yield server.url


@pytest.fixture(scope="session")
def server_two(runs):
    with Server([runs["vae"], runs["ae"]]) as server:
        yield server.url


@pytest.fixture(scope="session")
def server_cond(runs, conditional):
    with Server([conditional, runs["vae"]]) as server:
        yield server.url


@pytest.fixture(scope="session")
def parts(tmp_path_factory) -> dict[str, Path]:
    """A VAE with two stochastic layers (z2 of 2) and one with a learned mixture prior (K = 3)."""
    root = tmp_path_factory.mktemp("serve-runs-parts")
    flags = {"two-layer": ["--stochastic-layers", "2", "--latent2", "2", "--hidden2", "16"],
             "mog": ["--prior", "mog", "--prior-components", "3"]}
    out = {}
    for name, extra in flags.items():
        out[name] = root / name
        subprocess.run([sys.executable, "-m", "vaekit", "train", *TRAIN, *extra, "--out", str(out[name])],
                       check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="session")
def server_parts(parts):
    with Server([parts["two-layer"], parts["mog"]]) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for one test module (test_browser*.py), or a skip saying why there is none."""
    with browser_or_skip() as b:
        yield b
