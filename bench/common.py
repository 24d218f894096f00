"""What the bench scripts share: a plain matmul rate and device synchronisation; for the
`vaekit serve` benches, a run to serve, HTTP clients with kept-alive connections, latency
percentiles and the server's memory.

torch is imported where it is used, so that the serving benches' client side stays light.
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_gflops(device, n: int = 2048, reps: int = 20) -> float:
    """The median rate of a plain n x n float32 matrix product, GFLOP/s (5 timings)."""
    import torch

    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    rates = []
    for _ in range(5):
        sync(device)
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(device)
        rates.append(2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9)
    return statistics.median(rates)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MB (from /proc; 0 once it is gone)."""
    import os

    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))    # fields[1]: the parent's pid
            rss[int(entry)] = int(fields[21]) * page                        # fields[21]: rss in pages
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total / 2 ** 20


class TreePeak:
    """``with TreePeak(pid) as peak: ...`` samples the process tree's total RSS every ``every`` s; ``peak.mb``."""

    def __init__(self, pid: int, every: float = 0.2):
        import threading

        self.pid, self.every, self.mb = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.mb = max(self.mb, tree_rss_mb(self.pid))

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
# ---- vaekit serve --------------------------------------------------------------------------------


def train_mnist_run(data_dir: str, out: Path, device: str, epochs: int = 1) -> None:
    """The 784-400-20 MLP VAE on MNIST, ``epochs`` epochs, into ``out`` (latency does not depend on
    how well it is trained)."""
    subprocess.run([sys.executable, "-m", "vaekit", "train", "--data", "mnist", "--data-dir", data_dir,
                    "--epochs", str(epochs), "--hidden", "400", "--latent", "20", "--log-px-every", "0",
                    "--device", device, "--out", str(out)], check=True, stdout=subprocess.DEVNULL, cwd=REPO)


def percentiles(seconds: list[float]) -> dict:
    """p50, p95, p99 in milliseconds (nearest rank) and the count."""
    ms = sorted(s * 1000 for s in seconds)
    if not ms:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "n": 0}
    at = lambda q: ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))]   # noqa: E731
    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ms)}


def memory_mb(pid: int) -> dict:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def wait_for_answer(host: str, port: int, path: str = "/api/info", timeout_s: float = 120.0) -> None:
    """Until ``GET path`` answers 200 (the URL is printed just before the server answers)."""
    deadline = time.perf_counter() + timeout_s
    while True:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.02)


@dataclass
class Load:
    """What ``http_load`` measured: seconds per request by endpoint name, failures, wall time."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def count(self) -> int:
        return sum(map(len, self.latencies.values()))

    def all_latencies(self) -> list[float]:
        return [s for values in self.latencies.values() for s in values]


Request = tuple[str, str, bytes]   # (name, path, JSON body) of one POST


def http_load(host: str, port: int, requests: Callable[[int, int], Request], n_requests: int, concurrency: int,
              seconds: float | None = None) -> Load:
    """``concurrency`` clients, each on its own kept-alive connection (as a browser keeps one open),
    send POSTs one after the other until ``n_requests`` are sent in all or ``seconds`` have passed.

    ``requests(client, j)`` is client's j-th request.  A failure (a status other than 200, or a
    broken connection, which is then reopened) is counted in ``errors``, not raised.
    """
    load = Load()
    lock = threading.Lock()
    per_client = [n_requests // concurrency + (i < n_requests % concurrency) for i in range(concurrency)]
    deadline = None if seconds is None else time.perf_counter() + seconds

    def client(i: int, count: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        mine: dict[str, list[float]] = {}
        errors = []
        for j in range(count):
            if deadline is not None and time.perf_counter() > deadline:
                break
            name, path, body = requests(i, j)
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    errors.append(f"{name}: {response.status} {data[:200]!r}")
            except (OSError, http.client.HTTPException) as e:
                errors.append(f"{name}: {type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                continue
            mine.setdefault(name, []).append(time.perf_counter() - start)
        conn.close()
        with lock:
            for name, values in mine.items():
                load.latencies.setdefault(name, []).extend(values)
            load.errors.extend(errors)

    threads = [threading.Thread(target=client, args=(i, c)) for i, c in enumerate(per_client)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.wall_s = time.perf_counter() - start
    return load
