"""The ``vaekit`` command: ``vaekit lecture | train | eval | sample | gmm | serve | download``.

Building the parser imports no torch: ``vaekit --help`` answers at once, and each
subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .. import __version__
from ..allocator import keep_freed_memory
from . import main_started
from .common import Parser, run_command

DISTRIBUTED = ("train", "eval")   # the commands that run under torchrun (vaekit.distributed)


def build_parser() -> argparse.ArgumentParser:
    from . import download, eval, gmm, lecture, sample, serve, train

    parser = Parser(prog="vaekit", description="Variational autoencoders as the lecture teaches them.")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
    parser.add_argument("--version", action="version", version=f"vaekit {__version__}")
    # --debug after the subcommand too; SUPPRESS keeps the subparser from resetting one given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show Python tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in (lecture, train, eval, sample, gmm, serve, download):
        command = module.add_parser(sub, [common])
        command.set_defaults(flags=frozenset(command.flags))   # errors show these parameters as flags
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        main_started()   # Ctrl-C is a KeyboardInterrupt again, caught below (cli/__init__.py)
        argv = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:   # --help, --version, or a usage error (already printed, one line)
            return e.code if isinstance(e.code, int) else 2
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        args.argv = argv
        if args.command not in DISTRIBUTED and "RANK" in os.environ and "WORLD_SIZE" in os.environ \
                and os.environ["WORLD_SIZE"] != "1":
            print(f"vaekit: error: vaekit {args.command} runs in one process; under torchrun only "
                  f"{' and '.join(DISTRIBUTED)} run on several", file=sys.stderr)
            return 2
        if args.command != "download":
            keep_freed_memory()   # large tensors reuse freed pages (allocator.py); VAEKIT_KEEP_FREED_MEMORY=0: off
        code = run_command(args.func, args, preload=() if args.command == "download" else ("torch",))
        if "RANK" in os.environ and os.environ.get("WORLD_SIZE", "1") != "1":   # one of torchrun's ranks
            from ..distributed import exit_now

            exit_now(code)   # does not return: skips finalisation, where gloo can abort (see exit_now)
        return code
    except KeyboardInterrupt:   # Ctrl-C before a command started (while importing, say)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("vaekit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
