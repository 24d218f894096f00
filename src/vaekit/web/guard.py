"""What every request passes before the app sees it: its Host, its Origin, and a time limit on its body.

``vaekit serve`` has no authentication; it listens on loopback so that only this machine can
reach it.  A web page can reach it there all the same by DNS rebinding (its own name made to
resolve to 127.0.0.1), and any page can post to it from the browser.  So:

* the Host header must name the server: the address it listens on, or ``localhost`` (for a
  wildcard address such as 0.0.0.0, any IP address and this machine's name too); anything
  else is refused (400).  A rebinding page's requests carry its own name.
* a request that carries an Origin must come from the server's own page, ``http://`` + its
  Host (403 otherwise; ``null`` too).  Requests without one (curl, scripts) pass.
* a body must arrive whole within ``body_timeout_s()`` seconds of the request's headers (408),
  so a client that stalls or trickles its body cannot hold a connection and a task forever;
  once the server is stopping (``Guard.stopping``) such a wait ends at once (503).

Refusals are one line of JSON, ``{"error": ...}``, with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import VaekitError
from .inputs import BadInput

BODY_TIMEOUT_ENV = "VAEKIT_SERVE_BODY_TIMEOUT"
DEFAULT_BODY_TIMEOUT_S = 10.0
POLL_S = 0.2   # how often a wait for a body looks whether the server is stopping


def body_timeout_s() -> float:
    """Seconds a request's body may take after its headers: $VAEKIT_SERVE_BODY_TIMEOUT, default 10."""
    text = os.environ.get(BODY_TIMEOUT_ENV, str(DEFAULT_BODY_TIMEOUT_S))
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise VaekitError(f"{BODY_TIMEOUT_ENV} must be a positive number of seconds; got {text!r}")
    return value


def _split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header "name", "name:port" or "[v6]:port" as (name in lower case, port); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        name, _, port = value.partition(":")
        if ":" in port:
            return None
    if not name or (port and not (port.isdigit() and int(port) <= 65535)):
        return None
    return name, int(port) if port else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Hosts:
    """The Host names a server answers to: ``names``, and any IP address where ``any_ip``."""

    names: tuple[str, ...]
    any_ip: bool = False

    @classmethod
    def of(cls, host: str, address: str) -> "Hosts":
        """For ``--host host`` bound to the numeric ``address``: those two and localhost; for a wildcard
        address (0.0.0.0, ::) also any IP address and this machine's name."""
        names = ["localhost"]
        for name in (host, address):
            if name.strip("[]").lower() not in names:
                names.append(name.strip("[]").lower())
        wildcard = _is_ip(address) and ipaddress.ip_address(address).is_unspecified
        if wildcard:
            for name in (socket.gethostname(), socket.getfqdn()):
                if name and name.lower() not in names:
                    names.append(name.lower())
        return cls(tuple(n for n in names if not (wildcard and _is_ip(n))), wildcard)

    def accepts(self, name: str) -> bool:
        return name in self.names or (self.any_ip and _is_ip(name))

    def __str__(self) -> str:
        shown = ", ".join(f"[{n}]" if ":" in n else n for n in self.names)
        return shown + (" or an IP address" if self.any_ip else "")


def _json_refusal(status: int, message: str):
    """An ASGI answer: one line of JSON, and the connection closed (a body may still be on its way)."""
    body = json.dumps({"error": " ".join(message.split())}).encode()
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close")]},
            {"type": "http.response.body", "body": body}]


class Guard:
    """ASGI middleware around the app: the Host and Origin checks and the body's time limit (module doc)."""

    def __init__(self, app, hosts: Hosts, body_timeout: float):
        self.app, self.hosts, self.body_timeout = app, hosts, body_timeout
        self.stopping = False   # set (from a signal handler) when the server stops: waits for bodies end

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        refusal = self.refusal(headers)
        if refusal is not None:
            for message in _json_refusal(*refusal):
                await send(message)
            return
        await self.app(scope, self._timed(receive, headers.get("content-length")), send)

    def refusal(self, headers: dict) -> tuple[int, str] | None:
        """(status, message) for a request whose Host or Origin is refused; None if it may pass."""
        raw = headers.get("host")
        host = _split_host(raw) if raw is not None else None
        if host is None or not self.hosts.accepts(host[0]):
            got = "no Host header" if raw is None else f"Host {raw[:80]!r}"
            return 400, (f"expected a Host header naming this server ({self.hosts}); got {got}: a page under "
                         "another name is refused (DNS rebinding)")
        origin = headers.get("origin")
        if origin is not None and _origin(origin) != ("http", host[0], host[1] or 80):
            return 403, (f"expected requests from this server's own page (Origin http://{raw}) or none; got "
                         f"Origin {origin[:80]!r}: another site's page may not use this server")
        return None

    def _timed(self, receive, declared: str | None):
        """``receive`` whose body messages must all arrive within ``body_timeout`` s of now."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        state = {"done": False, "bytes": 0}

        async def timed():
            if state["done"]:   # the body is in: later calls wait for a disconnect, unbounded as usual
                return await receive()
            task = asyncio.ensure_future(receive())
            try:
                while True:
                    left = deadline - loop.time()
                    finished, _ = await asyncio.wait({task}, timeout=max(0.0, min(left, POLL_S)))
                    if finished:
                        message = task.result()
                        state["bytes"] += len(message.get("body", b""))
                        state["done"] = message["type"] != "http.request" or not message.get("more_body", False)
                        return message
                    if self.stopping:
                        raise BadInput("the server is stopping; the request's body did not arrive before it did",
                                       status=503)
                    if left <= 0:
                        size = f"{int(declared):,}" if declared and declared.isdigit() else "an unknown number of"
                        raise BadInput(f"expected the request's body within {self.body_timeout:g} s of its headers; "
                                       f"got {state['bytes']:,} of {size} bytes", status=408)
            finally:
                if not task.done():
                    task.cancel()

        return timed


def _origin(origin: str) -> tuple[str, str, int] | None:
    """An Origin header as (scheme, host in lower case, port); None for "null" or a malformed one."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)
