"""Start ``vaekit serve`` as a real process on a free loopback port and wait for its URL.

    with Server([run_dir]) as server:
        urllib.request.urlopen(server.url + "api/info")
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

URL = re.compile(r"open (http://\S+/)")


def port_of(url: str) -> int:
    """The port of a server's URL, http://HOST:PORT/."""
    return int(url.rsplit(":", 1)[1].strip("/"))


class Server:
    def __init__(self, run_dirs, *extra: str, timeout_s: float = 60.0, env: dict | None = None):
        self.command = [sys.executable, "-m", "vaekit", "serve", *map(str, run_dirs), "--port", "0",
                        "--device", "cpu", *extra]
        self.timeout_s = timeout_s
        self.env = env or {}
        self.url: str | None = None
        self.output: list[str] = []
        self.started_s: float | None = None

    def __enter__(self) -> "Server":
        start = time.perf_counter()
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env})
        found = threading.Event()

        def read():   # keep draining the pipe, so the server never blocks on a full one
            for line in self.process.stdout:
                self.output.append(line)
                match = URL.search(line)
                if match and self.url is None:
                    self.url = match.group(1)
                    found.set()
            found.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not found.wait(self.timeout_s) or self.url is None:
            self.__exit__(None, None, None)
            raise RuntimeError(f"vaekit serve gave no URL within {self.timeout_s} s; it said: {''.join(self.output)}")
        self.started_s = time.perf_counter() - start
        return self

    @property
    def port(self) -> int:
        return port_of(self.url)

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout_s: float) -> tuple[int | None, str]:
        """(exit code, everything it printed after its URL) once it ends; (None, ...) if it is still running."""
        try:
            code = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        else:
            self._reader.join(5)
        lines = list(self.output)
        first = next((i for i, line in enumerate(lines) if URL.search(line)), -1)
        return code, "".join(lines[first + 1:])

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
