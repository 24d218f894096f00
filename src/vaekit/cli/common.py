"""What every subcommand shares: one-line errors, exit codes, --debug."""

from __future__ import annotations

import argparse
import sys
import traceback

from ..errors import TrainingDiverged, VaekitError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def run_command(func, args) -> int:
    """Run ``func(args)``; user errors -> one line, exit 2; failures -> one line, exit 1."""
    try:
        return func(args) or 0
    except VaekitError as e:
        if args.debug:
            traceback.print_exc()
        print(f"vaekit: error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        if args.debug:
            traceback.print_exc()
        print(f"vaekit: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vaekit: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130
    except Exception as e:  # a bug or an environment failure: still one line unless --debug
        if args.debug:
            traceback.print_exc()
        print(f"vaekit: failed: {type(e).__name__}: {e} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1
