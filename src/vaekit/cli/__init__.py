"""The command line; the only place that prints.

Importing the command takes a few tens of milliseconds before ``main`` can catch a Ctrl-C;
one that arrives then would print the import's traceback.  When this package is imported by
the ``vaekit`` command itself (the console script, or ``python -m vaekit``), a Ctrl-C until
``main`` starts ends the process at once with one line and exit code 130.  Imported by
anything else (a test, a notebook) it changes nothing.
"""

import os
import signal
import sys


def _interrupted_while_starting(signum, frame):
    os.write(2, b"vaekit: interrupted\n")
    os._exit(130)   # nothing to clean up yet: no file is open, nothing was written


def _is_the_vaekit_command() -> bool:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:                      # python -m vaekit
        return spec.name == "vaekit.__main__"
    name = os.path.basename(getattr(main, "__file__", None) or "")
    return name in ("vaekit", "vaekit-script.py")   # the console script pip writes


def quiet_until_main() -> None:
    """A Ctrl-C before ``main`` runs: one line, exit 130 (only in the vaekit command's own process)."""
    if _is_the_vaekit_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted_while_starting)


def main_started() -> None:
    """From here ``main`` catches Ctrl-C itself: Python's KeyboardInterrupt again."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)


quiet_until_main()
