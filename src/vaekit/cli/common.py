"""What every subcommand shares: one-line errors, exit codes, --debug, Ctrl-C."""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import re
import select
import shlex
import signal
import sys
import traceback
from collections.abc import Collection
from contextlib import contextmanager

from ..errors import DistributedFailure, TrainingDiverged, VaekitError
from .flags import flag


class Interrupted(Exception):
    """Ctrl-C, with what a command has to say about it (what was kept)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2); ``flags``: its options."""

    def __init__(self, *args, **kwargs):
        self.flags: set[str] = set()   # before argparse's __init__, which adds -h/--help
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.flags.update(action.option_strings)
        return action

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# A parameter named inside a message, as a Python call writes it: `out`, `resume=True`, `device='cpu'`.
_MENTION = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)(?:=([^`]*))?`")


def message(e: Exception, flags: Collection[str] | None = None) -> str:
    """An error as the CLI shows it, the parameters it names shown as flags.

    A VaekitError's ``setting`` that starts the message becomes its flag ("--latent must be
    ..."), and so does every parameter the message names in backticks: `out` -> --out,
    `resume=True` -> --resume, `device='cpu'` -> --device cpu.  With ``flags`` (the command's
    options) only parameters that are flags of the command are shown so; the others stay as
    they are.
    """
    text = " ".join(str(e).split())
    if not isinstance(e, VaekitError):
        return text

    def is_flag(name: str) -> bool:
        return flags is None or flag(name) in flags

    setting = e.setting
    if setting and is_flag(setting) and re.match(re.escape(setting) + r"\b", text):
        text = flag(setting) + text[len(setting):]

    def as_flag(m: re.Match) -> str:
        name, value = m.groups()
        if not is_flag(name):
            return m.group(0)
        if value is None or value == "True":
            return flag(name)
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
        return f"{flag(name)} {shlex.quote(str(value))}"

    return _MENTION.sub(as_flag, text)


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
    flags = getattr(args, "flags", None)   # the command's options (main.build_parser)
    if isinstance(e, (VaekitError, TrainingDiverged, DistributedFailure)):
        print(f"vaekit{who}: error: {message(e, flags)}", file=sys.stderr)
        return 2 if isinstance(e, VaekitError) else 1
    # a bug or an environment failure: still one line unless --debug
    print(f"vaekit{who}: failed: {type(e).__name__}: {message(e, flags)} (rerun with --debug for the traceback)",
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
