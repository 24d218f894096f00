"""What every subcommand shares: one-line errors, exit codes, --debug, Ctrl-C."""

from __future__ import annotations

import argparse
import importlib
import os
import select
import signal
import sys
import traceback
from contextlib import contextmanager

from ..errors import ConfigError, DistributedFailure, TrainingDiverged, VaekitError
from .flags import flag


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Interrupted(Exception):
    """Ctrl-C, with what a command has to say about it (what was kept)."""


def message(e: Exception) -> str:
    """An error as the CLI shows it: a ConfigError's setting name becomes its flag."""
    text = " ".join(str(e).split())
    setting = getattr(e, "setting", None)
    if isinstance(e, ConfigError) and setting and text.startswith(setting):
        text = flag(setting) + text[len(setting):]
    return text


@contextmanager
def interrupt_deferred():
    """Hold a Ctrl-C until the block ends, then raise it.

    For imports of C extensions (torch, numpy): a KeyboardInterrupt inside their module
    initialisation leaves them half loaded, and the next import fails with an unrelated
    error ("cannot load module more than once") instead of stopping cleanly.
    """
    pending = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    except ValueError:   # not the main thread: signals cannot be handled here anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


def run_command(func, args, preload: tuple[str, ...] = ()) -> int:
    """Run ``func(args)``; user errors -> one line, exit 2; failures -> one line, exit 1; Ctrl-C -> 130.

    ``preload``: modules imported first with Ctrl-C deferred (see ``interrupt_deferred``).
    """
    try:
        with interrupt_deferred():
            for module in preload:
                importlib.import_module(module)
        code = func(args) or 0
        sys.stdout.flush()   # a reader that closed the pipe shows here, not in Python's exit
        return code
    except (KeyboardInterrupt, Interrupted) as e:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not print a traceback
        print(f"vaekit: interrupted{'; ' + str(e) if isinstance(e, Interrupted) else ''}", file=sys.stderr)
        return 130
    except BrokenPipeError as e:
        return _stop_writing() if _stdout_is_closed() else _failed(e, args)
    except Exception as e:
        return _failed(e, args)


def _failed(e: Exception, args) -> int:
    """An exception as one line on stderr: user errors exit 2, failures 1."""
    if args.debug:
        traceback.print_exception(e)
    who = _who()
    if isinstance(e, (VaekitError, TrainingDiverged, DistributedFailure)):
        print(f"vaekit{who}: error: {message(e)}", file=sys.stderr)
        return 2 if isinstance(e, VaekitError) else 1
    # a bug or an environment failure: still one line unless --debug
    print(f"vaekit{who}: failed: {type(e).__name__}: {message(e)} (rerun with --debug for the traceback)",
          file=sys.stderr)
    return 1


SIGPIPE_EXIT = 128 + 13   # what a shell reports for a Unix tool that SIGPIPE ended


def _stdout_is_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (``vaekit eval ... | head -1`` after its line)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)          # POLLERR is always reported: no reader left
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def _stop_writing() -> int:
    """Stop writing quietly, as Unix tools do when the reader of their output is gone: exit 141.

    stdout is pointed at /dev/null so that the interpreter's last flush has nowhere to fail.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return SIGPIPE_EXIT


def _who() -> str:
    """' (rank R of W)' in a process torchrun started as one of several, '' otherwise."""
    world = os.environ.get("WORLD_SIZE", "1")
    return f" (rank {os.environ['RANK']} of {world})" if "RANK" in os.environ and world != "1" else ""
