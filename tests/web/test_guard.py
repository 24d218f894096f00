"""What a hostile page or client cannot do to ``vaekit serve``, against real server processes.

A page that DNS-rebinds its own name to 127.0.0.1 (Host: its name), a page of another origin
posting to the API (Origin), a client that sends headers and then stalls its body, and the
signals that must stop the server within seconds whatever the clients do.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from .server import Server, port_of

STOP_WITHIN_S = 6.0     # "a few seconds": the server's own grace period is 3 s


def request(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    """(status, headers, JSON or bytes) of one request with exactly these headers (Host included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    if body is not None:
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.headers.get("Content-Type") == "application/json":
        data = json.loads(data)
    return response.status, response.headers, data


def test_a_host_that_is_not_the_server_is_refused(server_one):
    port = port_of(server_one)
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example",
                 "127.0.0.2", "[::1]", ""):
        status, headers, data = request(port, "GET", "/api/info", {"Host": host} if host else {})
        assert status == 400, (host, data)
        if host:   # (without one, the HTTP parser refuses the request before vaekit sees it)
            assert "Host" in data["error"] and "127.0.0.1" in data["error"] and "\n" not in data["error"], data
            assert headers["Connection"] == "close"
    status, _, data = request(port, "POST", "/api/decode", {"Host": "evil.example"}, b'{"z": [0, 0, 0, 0]}')
    assert status == 400 and "Host" in data["error"]
    for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "LocalHost"):
        status, _, data = request(port, "GET", "/api/info", {"Host": host})
        assert status == 200, (host, data)


def test_a_page_of_another_origin_cannot_post(server_one):
    port = port_of(server_one)
    body = b'{"z": [0, 0, 0, 0]}'
    host = {"Host": f"127.0.0.1:{port}"}
    for origin in ("http://evil.example", f"http://evil.example:{port}", "http://localhost:3000",
                   f"https://127.0.0.1:{port}", "null", f"http://localhost:{port}"):
        status, _, data = request(port, "POST", "/api/decode", {**host, "Origin": origin}, body)
        assert status == 403, (origin, data)
        assert origin in data["error"] and "\n" not in data["error"], data
    status, _, data = request(port, "POST", "/api/score", {**host, "Origin": "http://evil.example"},
                              b'{"index": 0, "k": 5000}')
    assert status == 403
    # the page's own requests: same origin, or no Origin at all (curl)
    for extra in ({"Origin": f"http://127.0.0.1:{port}"}, {}):
        status, headers, _ = request(port, "POST", "/api/decode", {**host, **extra}, body)
        assert status == 200 and headers["Content-Type"] == "image/png"
    status, _, _ = request(port, "POST", "/api/decode", {"Host": f"localhost:{port}",
                                                          "Origin": f"http://localhost:{port}"}, body)
    assert status == 200


def test_the_pages_module_requests_pass_with_its_origin(server_one):
    """Chromium sends an Origin with every module script it fetches, same-origin ones too."""
    port = port_of(server_one)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, headers, _ = request(port, "GET", "/static/js/main.js", {"Host": host, "Origin": f"http://{host}"})
        assert status == 200 and headers["Content-Type"].startswith("text/javascript"), host
    status, _, data = request(port, "GET", "/static/js/api.js", {"Host": f"127.0.0.1:{port}",
                                                                 "Origin": "http://evil.example"})
    assert status == 403 and "evil.example" in data["error"]


def test_listening_beyond_this_machine_says_which_hosts_it_answers(runs):
    with Server([runs["vae"]], "--host", "0.0.0.0") as server:
        said = "".join(server.output)
        assert "reachable from other machines" in said and "Host" in said and "localhost" in said, said
        for host, want in (("evil.example", 400), ("127.0.0.1", 200), ("localhost", 200), ("10.1.2.3", 200),
                           (socket.gethostname(), 200)):
            status, _, data = request(server.port, "GET", "/api/info", {"Host": host})
            assert status == want, (host, data)


# ---------------------------------------------------------------------------------------- bodies


def _partial_body(port: int, declared: int = 1000, sent: bytes = b'{"z": [0') -> socket.socket:
    """A connection that has sent a POST's headers and the first bytes of its body, then stalls."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {declared}\r\n\r\n".encode() + sent)
    return sock


def _response(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the answer on ``sock``."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def quick_body_server(runs):
    """A server whose bodies must arrive within 1 s (VAEKIT_SERVE_BODY_TIMEOUT)."""
    with Server([runs["vae"]], env={"VAEKIT_SERVE_BODY_TIMEOUT": "1"}) as server:
        yield server


def test_a_stalled_body_times_out_and_the_server_goes_on(quick_body_server):
    port = quick_body_server.port
    start = time.perf_counter()
    sock = _partial_body(port)
    status, body = _response(sock)
    took = time.perf_counter() - start
    assert status == 408 and "within 1 s" in body["error"] and "got 8 of 1,000 bytes" in body["error"], body
    assert 0.9 < took < 4, took
    assert sock.recv(1) == b""                              # and the connection is closed
    sock.close()
    status, _, _ = request(port, "POST", "/api/decode", {"Host": f"127.0.0.1:{port}"}, b'{"z": [0, 0, 0, 0]}')
    assert status == 200


def test_a_trickled_body_times_out_too(quick_body_server):
    port = quick_body_server.port
    sock = _partial_body(port, declared=100, sent=b"")
    start = time.perf_counter()
    for _ in range(40):                                     # a byte every 0.1 s: never idle, never done
        if select.select([sock], [], [], 0)[0]:             # until the server answers
            break
        sock.sendall(b" ")
        time.sleep(0.1)
    status, body = _response(sock)
    sock.close()
    assert status == 408 and time.perf_counter() - start < 4.5, body


def test_a_bad_body_timeout_setting_is_one_line(runs):
    r = subprocess.run([sys.executable, "-m", "vaekit", "serve", str(runs["vae"]), "--port", "0"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "VAEKIT_SERVE_BODY_TIMEOUT": "soon"})
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "VAEKIT_SERVE_BODY_TIMEOUT must be a positive number of seconds; got 'soon'" in r.stderr


# ---------------------------------------------------------------------------------------- stopping


def _stop(server: Server, *signals: int, gap_s: float = 0.3) -> tuple[int | None, str, float]:
    start = time.perf_counter()
    for i, sig in enumerate(signals):
        if i:
            time.sleep(gap_s)
        if server.alive():
            server.process.send_signal(sig)
    code, said = server.wait(STOP_WITHIN_S)
    return code, said, time.perf_counter() - start


NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


@pytest.mark.parametrize("sig, delay", [(signal.SIGINT, 0.0), (signal.SIGINT, 0.03), (signal.SIGTERM, 0.0)],
                         ids=["ctrl-c-at-once", "ctrl-c-soon", "sigterm"])
def test_one_signal_stops_a_server_that_answered_nothing_yet(runs, sig, delay):
    with Server([runs["vae"]]) as server:
        time.sleep(delay)
        code, said, took = _stop(server, sig)
    assert code == 128 + sig, (code, said)
    assert said == f"vaekit serve: stopped ({NAMES[sig]})\n", said
    assert took < STOP_WITHIN_S


@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGTERM,), (signal.SIGINT, signal.SIGINT)],
                         ids=["ctrl-c", "sigterm", "ctrl-c-twice"])
def test_one_signal_stops_a_server_whose_client_stalls_its_body(runs, signals):
    with Server([runs["vae"]]) as server:
        port = server.port
        idle = socket.create_connection(("127.0.0.1", port))              # a kept-alive connection, idle
        request(port, "GET", "/api/info", {"Host": f"127.0.0.1:{port}"})
        stalled = _partial_body(port)                                      # headers and part of a body
        half_headers = socket.create_connection(("127.0.0.1", port))      # not even its headers whole
        half_headers.sendall(b"POST /api/decode HTTP/1.1\r\nHost: 127.0")
        time.sleep(0.3)
        code, said, took = _stop(server, *signals)
        for sock in (idle, stalled, half_headers):
            sock.close()
    assert code == 128 + signals[0], (code, said)
    assert said == f"vaekit serve: stopped ({NAMES[signals[0]]})\n", said
    assert took < STOP_WITHIN_S
