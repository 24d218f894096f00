"""``vaekit serve RUN_DIR [RUN_DIR_2]``: explore trained models' code spaces in the browser."""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading

from ..web.config import LOOPBACK, ServeConfig
from .flags import add_config_flags, config_values


def add_parser(sub, parents):
    p = sub.add_parser("serve", parents=parents, help="explore a trained model's code space in the browser",
                       description="Start a local web server showing a trained VAE's (or AE's) code space: the "
                                   "test set's codes, live decodes, an image's noise region and bound, "
                                   "interpolations, prior samples and a copy check. With two run directories "
                                   "(say an AE and a VAE on the same data) every view shows both.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="one or two run directories written by vaekit train")
    add_config_flags(p, ServeConfig)
    p.set_defaults(func=main)
    return p


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int):
    """A listening socket on host:port, or one clear error (the port is taken, the address is not ours)."""
    import socket

    from ..errors import VaekitError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as e:
        raise VaekitError(f"--host {host}: not an address this machine can listen on ({e.strerror})") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == 98:   # EADDRINUSE
            raise VaekitError(f"port {port} on {host} is in use; pass another --port (0 picks a free one)") from None
        raise VaekitError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    if family in (socket.AF_INET, socket.AF_INET6):
        # Answers go out as two writes (headers, body); without TCP_NODELAY the second waits for
        # the client's delayed ACK, ~40 ms per request.  Accepted connections inherit it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


STOP_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
GRACE_S = 3   # after a stop signal, requests in progress get this long to finish before they are cancelled


def main(args) -> int:
    """Load the runs, serve them until Ctrl-C or SIGTERM; then one line, exit code 128 + the signal.

    One signal stops it within seconds, whatever the clients do: a wait for a request's body
    ends at once (web/guard.py), requests still running get GRACE_S seconds, the
    nearest-image index stops being built.  Until the server runs, a signal interrupts the
    loading (KeyboardInterrupt); from then on it asks uvicorn to stop.
    """
    import logging

    import uvicorn

    from ..device import resolve_device
    from ..errors import VaekitError
    from ..web.app import create_app
    from ..web.explorer import Explorer
    from ..web.guard import Guard, Hosts, body_timeout_s

    if len(args.run_dirs) > 2:
        raise VaekitError(f"vaekit serve takes one or two run directories; got {len(args.run_dirs)}")
    cfg = ServeConfig(**config_values(args, ServeConfig))
    body_timeout = body_timeout_s()
    device = resolve_device(cfg.device)
    received: list[int] = []

    def interrupt(signum, frame):   # while loading: stop at once
        received.append(signum)
        raise KeyboardInterrupt

    _on_stop_signals(interrupt)
    sock = explorer = None
    try:
        sock = _bind(cfg.host, cfg.port)      # first: a taken port fails before minutes of loading
        explorer = Explorer(args.run_dirs, data_dir=cfg.data_dir, device=device)
        host, port = sock.getsockname()[:2]
        hosts = Hosts.of(cfg.host, host)
        if not _is_loopback(cfg.host):
            print(f"vaekit serve: listening on {host}:{port}, reachable from other machines on the network; "
                  f"the server has no authentication (use --host {LOOPBACK} for this machine only); it answers "
                  f"requests whose Host is {hosts}", file=sys.stderr)
        guard = Guard(create_app(explorer), hosts, body_timeout)
        config = uvicorn.Config(guard, log_level="warning", access_log=False, lifespan="off",
                                timeout_keep_alive=5, timeout_graceful_shutdown=GRACE_S)

        class Server(uvicorn.Server):
            def handle_exit(self, sig, frame) -> None:   # uvicorn's signal handler: vaekit's instead
                stop(sig, frame)

        server = Server(config)

        def stop(signum, frame):   # while serving: ask the server to stop; a second signal: without waiting
            received.append(signum)
            guard.stopping = True
            server.should_exit = True
            server.force_exit = len(received) > 1
            # what a stop cancels (a stalled client's task, a response nobody reads) is expected:
            # uvicorn would log each as an error with a traceback
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)

        _on_stop_signals(stop)
        shown = f"[{host}]" if ":" in host else host
        names = " and ".join(f"{run.name} ({run.kind}, {run.latent}-d code)" for run in explorer.models)
        print(f"vaekit serve: {names} on {explorer.dataset}; open http://{shown}:{port}/  (Ctrl-C stops)", flush=True)
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        if not received:   # not ours: run_command reports it
            raise
    finally:
        _on_stop_signals(signal.SIG_IGN)   # stopping: a further signal must not interrupt the cleanup
        if explorer is not None:
            explorer.close()
        if sock is not None:
            sock.close()
    if received:
        print(f"vaekit serve: stopped ({STOP_SIGNALS[received[0]]})", file=sys.stderr, flush=True)
        return 128 + received[0]
    return 0


def _on_stop_signals(handler) -> None:
    """Handle SIGINT and SIGTERM with ``handler`` (only the main thread can; elsewhere nothing changes)."""
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            signal.signal(sig, handler)
