"""The explorer server's settings: one frozen dataclass, the source of ``vaekit serve``'s flags.

No torch here: the CLI reads it to build its parser.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .. import validate
from ..settings import check_choices, device_setting, setting

LOOPBACK = "127.0.0.1"
MAX_PORT = 65535


@dataclass(frozen=True)
class ServeConfig:
    """Where the server listens, where the runs' data is, and the device the models run on."""

    host: str = setting(LOOPBACK, f"address to listen on (default {LOOPBACK}: this machine only)")
    port: int = setting(8000, "port (default 8000; 0 picks a free one)")
    data_dir: str | None = setting(None, "folder holding the dataset's files (mnist, fashion-mnist, frey)",
                                   metavar="DIR")
    device: str = device_setting()

    def __post_init__(self):
        validate.text("host", self.host)
        validate.integer("port", self.port, 0, MAX_PORT)
        validate.text("data_dir", self.data_dir, optional=True)
        check_choices(self)

    def to_dict(self) -> dict:
        return asdict(self)
