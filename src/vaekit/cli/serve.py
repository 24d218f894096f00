"""``vaekit serve RUN_DIR [RUN_DIR_2]``: explore trained models' code spaces in the browser."""

from __future__ import annotations

import ipaddress
import sys

LOOPBACK = "127.0.0.1"


def add_parser(sub, parents):
    p = sub.add_parser("serve", parents=parents, help="explore a trained model's code space in the browser",
                       description="Start a local web server showing a trained VAE's (or AE's) code space: the "
                                   "test set's codes, live decodes, an image's noise region and bound, "
                                   "interpolations, prior samples and a copy check. With two run directories "
                                   "(say an AE and a VAE on the same data) every view shows both.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="one or two run directories written by vaekit train")
    p.add_argument("--host", default=LOOPBACK,
                   help=f"address to listen on (default {LOOPBACK}: this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding the dataset's files (mnist, fashion-mnist, frey)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="auto (default: a CUDA GPU if PyTorch sees one), cpu or cuda")
    p.set_defaults(func=main)
    return p


def _port(text: str) -> int:
    import argparse

    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535; got {text!r}")
    return port


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


def main(args) -> int:
    import uvicorn

    from ..device import resolve_device
    from ..errors import VaekitError
    from ..web.app import create_app
    from ..web.explorer import Explorer

    if len(args.run_dirs) > 2:
        raise VaekitError(f"vaekit serve takes one or two run directories; got {len(args.run_dirs)}")
    device = resolve_device(args.device)
    sock = _bind(args.host, args.port)          # first: a taken port fails before minutes of loading
    try:
        explorer = Explorer(args.run_dirs, data_dir=args.data_dir, device=device)
        host, port = sock.getsockname()[:2]
        if not _is_loopback(args.host):
            print(f"vaekit serve: listening on {host}:{port}, reachable from other machines on the network; "
                  f"the server has no authentication (use --host {LOOPBACK} for this machine only)", file=sys.stderr)
        shown = f"[{host}]" if ":" in host else host
        names = " and ".join(f"{run.name} ({run.kind}, {run.latent}-d code)" for run in explorer.models)
        print(f"vaekit serve: {names} on {explorer.dataset}; open http://{shown}:{port}/  (Ctrl-C stops)", flush=True)
        config = uvicorn.Config(create_app(explorer), log_level="warning", access_log=False, lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
