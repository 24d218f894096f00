"""The project's error classes.

Every error a user can cause (a bad file, a bad flag, a bad value) is a ``VaekitError``
whose message is one line naming the file or value, what was expected and what was got.
The CLI prints that line and exits with code 2; other exceptions are bugs or runtime
failures (exit 1) and show a traceback only with ``--debug``.
"""


class VaekitError(ValueError):
    """A user error: bad input, bad configuration, a missing or corrupted file."""


class DataError(VaekitError):
    """A dataset file is missing, truncated, of the wrong format, or fails its checksum."""


class ConfigError(VaekitError):
    """A setting is unknown, of the wrong type or out of range."""


class CheckpointError(VaekitError):
    """A run directory holds no checkpoint, or a corrupted one."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""
