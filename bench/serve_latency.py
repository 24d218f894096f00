"""Latency, throughput, start-up time and memory of `vaekit serve`, measured over real HTTP.

Starts the real server (a subprocess on a free loopback port) over an MLP VAE trained on MNIST
(784-400-20, one epoch unless --run names a run: latency does not depend on how well it is
trained), then sends real requests with persistent connections (http.client, as a browser
keeps its connection open):

  * single-code /api/decode, with 1 and with 8 concurrent clients: p50 / p95 / p99 latency
    and requests per second;
  * /api/neighbors for a code (decode + nearest of MNIST's 50,000 training images + 3 PNGs);
  * the same work done in this process without HTTP (decode + PNG; decode + NearestIndex.search),
    the floor the server is compared with: the ratio is what HTTP and FastAPI add;
  * seconds from launch to the first answer of /api/info, and the server's resident memory
    (VmRSS, and the peak VmHWM) after the requests.

Targets on this 2-core CPU: single decode p95 < 20 ms, nearest-image search < 50 ms, RSS < 1 GB,
answering within 5 s of launch.

    python bench/serve_latency.py [--data-dir ../shared/data/mnist] [--run RUN_DIR] [--requests 400] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, http_load, memory_mb, percentiles, train_mnist_run, wait_for_answer  # bench/common.py

sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))


def clients(host: str, port: int, path: str, body: bytes, n_requests: int, concurrency: int) -> tuple[list, float]:
    """Send n_requests POSTs of ``body`` to ``path`` from ``concurrency`` kept-alive connections; all must succeed."""
    load = http_load(host, port, lambda i, j: (path, path, body), n_requests, concurrency)
    if load.errors:
        raise RuntimeError(f"{len(load.errors)} requests failed, e.g. {load.errors[0]}")
    return load.all_latencies(), load.wall_s


def in_process_floor(run: Path, data_dir: str, device: str, repeats: int) -> dict:
    """Median seconds of the server's work without HTTP: one decode + PNG, one nearest-image search."""
    import torch

    import vaekit
    from vaekit.data import load
    from vaekit.eval.nearest import NearestIndex
    from vaekit.web.images import png_strip

    model = vaekit.load(run, device=device)
    z = torch.randn(1, model.latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
    index = NearestIndex(load("mnist", "train", data_dir=data_dir).images, device=device)

    def timed(fn) -> float:
        fn()
        out = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
        return statistics.median(out)

    with torch.no_grad():
        decode = timed(lambda: png_strip(model.decode(z).mean.cpu()))
        search = timed(lambda: index.search(model.decode(z).mean))
    return {"decode": decode, "search": search, "train_images": len(index)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"),
                   help="folder of the MNIST IDX files (default ../shared/data/mnist)")
    p.add_argument("--run", help="an MNIST run directory to serve (default: train a 1-epoch 784-400-20 VAE)")
    p.add_argument("--requests", type=int, default=400, help="decode requests per concurrency level (default 400)")
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    from web.server import Server   # tests/web/server.py: start `vaekit serve` and read its URL

    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        run = Path(a.run) if a.run else Path(tmp) / "mnist-vae"
        if not a.run:
            print("training a 1-epoch 784-400-20 VAE on MNIST to serve ...", flush=True)
            train_mnist_run(a.data_dir, run, a.device)
        latent = json.loads((run / "config.json").read_text())["model"]["latent"]
        launched = time.perf_counter()
        with Server([run], "--data-dir", a.data_dir, "--device", a.device, timeout_s=120) as server:
            host, port = server.url.split("//")[1].strip("/").split(":")
            port = int(port)
            wait_for_answer(host, port)   # the URL is printed just before it answers: time the first real answer
            first_answer = time.perf_counter() - launched
            code = json.dumps({"z": [0.1] * latent}).encode()
            # the nearest-image index is built in the background after launch: wait for it (the
            # first /api/neighbors does), so that it does not compete with the timed requests
            clients(host, port, "/api/neighbors", code, 1, 1)
            ready = time.perf_counter() - launched
            rows = []
            for concurrency in (1, 8):
                clients(host, port, "/api/decode", code, 20, concurrency)   # warm-up
                latencies, wall = clients(host, port, "/api/decode", code, a.requests, concurrency)
                rows.append(("decode 1 code", concurrency, percentiles(latencies), len(latencies) / wall))
            latencies, wall = clients(host, port, "/api/neighbors", code, max(50, a.requests // 8), 1)
            rows.append(("neighbors (50,000 images)", 1, percentiles(latencies), len(latencies) / wall))
            memory = memory_mb(server.process.pid)
        floor = in_process_floor(run, a.data_dir, a.device, repeats=200)

    print(f"\nvaekit serve, MNIST MLP VAE (784-400-{latent}), device {a.device}, real HTTP on loopback")
    print(f"{'request':<27} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for name, concurrency, pct, rps in rows:
        print(f"{name:<27} {concurrency:>7} {pct['p50']:8.2f} {pct['p95']:8.2f} {pct['p99']:8.2f} {rps:8.0f}")
    decode_p50 = rows[0][2]["p50"] / 1000
    print("\nthe same work in this process, no HTTP (median of 200):")
    print(f"  decode + PNG           {floor['decode'] * 1000:7.2f} ms   server p50 / in-process: "
          f"{decode_p50 / floor['decode']:.1f}x")
    print(f"  nearest of {floor['train_images']:,} images  {floor['search'] * 1000:7.2f} ms (decode + search)")
    print(f"\nfirst answer {first_answer:.2f} s after launch (target < 5 s); nearest-image index ready after "
          f"{ready:.2f} s; server memory: "
          f"RSS {memory.get('VmRSS', float('nan')):.0f} MB, peak {memory.get('VmHWM', float('nan')):.0f} MB "
          f"(target < 1024 MB)")
    verdicts = [("decode p95 < 20 ms", rows[0][2]["p95"] < 20), ("search < 50 ms", floor["search"] < 0.05),
                ("RSS < 1 GB", memory.get("VmHWM", 1e9) < 1024), ("answers < 5 s", first_answer < 5)]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
