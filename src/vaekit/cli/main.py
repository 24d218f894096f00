"""The ``vaekit`` command: ``vaekit train | eval | gmm | download``."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import download, eval, gmm, train
from .common import Parser, run_command


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show Python tracebacks")
    parser = Parser(prog="vaekit", description="Variational autoencoders as the lecture teaches them.",
                    parents=[common])
    parser.add_argument("--version", action="version", version=f"vaekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in (train, eval, gmm, download):
        module.add_parser(sub, [common])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:   # --help, --version, or a usage error (already printed, one line)
        return e.code if isinstance(e.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
