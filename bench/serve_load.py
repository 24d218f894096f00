"""`vaekit serve` under load: 16 clients at once, a mix of the API's model routes, for a bounded time.

Starts the real server (a subprocess on 127.0.0.1, a free port) over an MLP VAE trained on MNIST
(784-400-20, one epoch unless --run names a run), waits until it answers and its nearest-image
index is built, then runs ``--clients`` clients at once, each on its own kept-alive connection,
each sending one request after the other, round-robin over:

  * decode      one code (seeded N(0, I) draws)                     POST /api/decode
  * interpolate two test images, 10 steps                           POST /api/interpolate
  * neighbors   a code's decode against the 50,000 training images  POST /api/neighbors
  * score       a test image, k = 100                               POST /api/score

until ``--seconds`` have passed or ``--requests`` are sent, whichever comes first; then it stops
the server (SIGTERM) and prints requests per second, p50 / p95 / p99 per route, the failures
(there should be none), and the server's resident memory before the load, every few seconds
during it, and at its end (it should stay flat).  Target on this 2-core CPU: decode p95 < 50 ms
with 16 clients; the other routes do more work per request and may be slower.

The clients run in this process, on the same cores as the server: the figures are the pair's.

    python bench/serve_load.py [--data-dir ../shared/data/mnist] [--run RUN_DIR] [--seconds 60] [--clients 16]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, http_load, memory_mb, percentiles, train_mnist_run, wait_for_answer  # bench/common.py

sys.path.insert(0, str(REPO / "tests"))

ROUTES = ("decode", "interpolate", "neighbors", "score")
DECODE_P95_TARGET_MS = 50.0


def request_maker(latent: int, test_size: int, seed: int = 0):
    """``requests(client, j)`` for ``http_load``: client i's j-th request, round-robin over ROUTES
    (each client starting at another route), its codes and images drawn from (seed, i, j)."""
    def make(i: int, j: int):
        rng = random.Random(f"{seed}-{i}-{j}")
        route = ROUTES[(i + j) % len(ROUTES)]
        if route in ("decode", "neighbors"):
            body = {"z": [round(rng.gauss(0, 1), 4) for _ in range(latent)]}
        elif route == "interpolate":
            body = {"a": {"index": rng.randrange(test_size)}, "b": {"index": rng.randrange(test_size)}, "steps": 10}
        else:
            body = {"index": rng.randrange(test_size), "k": 100, "seed": j}
        return route, f"/api/{route}", json.dumps(body).encode()
    return make


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"),
                   help="folder of the MNIST IDX files (default ../shared/data/mnist)")
    p.add_argument("--run", help="a run directory to serve (default: train a 1-epoch 784-400-20 VAE on MNIST)")
    p.add_argument("--seconds", type=float, default=60.0, help="how long the load runs (default 60)")
    p.add_argument("--requests", type=int, default=100_000, help="the most requests sent in all (default 100,000)")
    p.add_argument("--clients", type=int, default=16, help="clients at once (default 16)")
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    if not (0 < a.seconds <= 3600 and 0 < a.requests and 0 < a.clients <= 256):
        p.error("expected 0 < --seconds <= 3600, --requests > 0 and 0 < --clients <= 256")
    from web.server import Server   # tests/web/server.py: start `vaekit serve` and read its URL

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        run = Path(a.run) if a.run else Path(tmp) / "mnist-vae"
        if not a.run:
            print("training a 1-epoch 784-400-20 VAE on MNIST to serve ...", flush=True)
            train_mnist_run(a.data_dir, run, a.device)
        config = json.loads((run / "config.json").read_text())
        data_args = ["--data-dir", a.data_dir] if config["data"]["name"] in ("mnist", "fashion-mnist", "frey") else []
        with Server([run], *data_args, "--device", a.device, timeout_s=300) as server:
            host, port = "127.0.0.1", server.port
            wait_for_answer(host, port)
            info = json.loads(_get(host, port, "/api/info"))["models"][0]
            make = request_maker(info["latent_dim"], info["test_size"])
            warm = http_load(host, port, lambda i, j: make(i, j), 8 * len(ROUTES), len(ROUTES))  # waits for the index
            pid = server.process.pid
            memory = [(0.0, memory_mb(pid)["VmRSS"])]
            sampling = threading.Event()

            def sample():   # the server's memory every 5 s while the load runs
                start = time.perf_counter()
                while not sampling.wait(5.0):
                    memory.append((time.perf_counter() - start, memory_mb(pid)["VmRSS"]))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            load = http_load(host, port, make, a.requests, a.clients, seconds=a.seconds)
            sampling.set()
            sampler.join()
            end = memory_mb(pid)
            memory.append((load.wall_s, end["VmRSS"]))
            server.process.send_signal(signal.SIGTERM)
            code, said = server.wait(15)

    print(f"\nvaekit serve under load: {run.name} ({info['dataset']}, {info['latent_dim']}-d code, "
          f"{info['train_size']:,} training images), device {a.device}, {a.clients} clients on 127.0.0.1, "
          f"{load.wall_s:.1f} s")
    print(f"{'route':<12} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    failed = {route: sum(e.startswith(route + ":") for e in load.errors) for route in ROUTES}
    for route in ROUTES:
        values = load.latencies.get(route, [])
        pct = percentiles(values)
        print(f"{route:<12} {len(values):>8} {len(values) / load.wall_s:7.1f} {pct['p50']:8.1f} {pct['p95']:8.1f} "
              f"{pct['p99']:8.1f} {failed[route]:>6}")
    pct = percentiles(load.all_latencies())
    print(f"{'all':<12} {load.count:>8} {load.count / load.wall_s:7.1f} {pct['p50']:8.1f} {pct['p95']:8.1f} "
          f"{pct['p99']:8.1f} {len(load.errors):>6}")
    for error in load.errors[:5]:
        print(f"  failed: {error}")
    if warm.errors:
        print(f"  warm-up failures: {len(warm.errors)}, e.g. {warm.errors[0]}")
    print("server memory (RSS, MB): " + ", ".join(f"{mb:.0f} at {t:.0f} s" for t, mb in memory)
          + f"; peak {end['VmHWM']:.0f}")
    print(f"server stopped by SIGTERM: exit code {code}, it said {said.strip()!r}")
    decode_p95 = percentiles(load.latencies.get("decode", []))["p95"]
    verdicts = [(f"decode p95 < {DECODE_P95_TARGET_MS:.0f} ms", decode_p95 < DECODE_P95_TARGET_MS),
                ("0 errors", not load.errors and not warm.errors)]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts))
    return 0 if all(ok for _, ok in verdicts) else 1


def _get(host: str, port: int, path: str) -> bytes:
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {data[:200]!r}")
    return data


if __name__ == "__main__":
    sys.exit(main())
