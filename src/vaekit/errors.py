"""The project's error classes.

Every error a user can cause (a bad file, a bad flag, a bad value) is a ``VaekitError``
whose message is one line naming the file or value, what was expected and what was got.
The CLI prints that line and exits with code 2; other exceptions are bugs or runtime
failures (exit 1) and show a traceback only with ``--debug``.
"""


class VaekitError(ValueError):
    """A user error: bad input, bad configuration, a missing or corrupted file.

    Messages name Python parameters, never command-line flags: the CLI shows each as its flag.
    ``setting`` names the parameter the message starts with ("latent must be a positive integer;
    got 0": the CLI shows "--latent must be ..."); any other parameter the message names is
    written in backticks as a Python call would write it (`out`, `resume=True`,
    `device='cpu'`: the CLI shows --out, --resume, --device cpu).
    """

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


class DataError(VaekitError):
    """A dataset file is missing, truncated, of the wrong format, or fails its checksum."""


class ConfigError(VaekitError):
    """A setting is unknown, of the wrong type or out of range.

    ``setting`` names the parameter when the message starts with it ("latent must be a
    positive integer; got 0"): the CLI then shows the flag instead ("--latent must be ...").
    """


class CheckpointError(VaekitError):
    """A run directory holds no checkpoint, or a corrupted one."""


class RunDirError(VaekitError):
    """A run directory cannot be used: locked by another process, not a vaekit run, or damaged."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class DistributedFailure(RuntimeError):
    """Under torchrun: a collective failed or timed out (another process died, the network broke)."""
