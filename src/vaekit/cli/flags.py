"""Command-line flags made from a config dataclass: one flag per field, help from its metadata.

A field ``batch_size: int = setting(128, "examples per step")`` becomes ``--batch-size N``
parsed as an int, default None (unset flags fall through to the TOML file, then to the
dataclass default).  A ``bool`` field is a switch (``--quick``: given means True); a field
with ``repeat`` in its metadata may be given several times (``--mirror URL --mirror URL``,
a tuple).  ``choices`` in the metadata show in the usage line; the dataclass itself checks
every value, so the library and the CLI refuse the same things.  Every command builds its
flags so (``train``, ``gmm``, ``eval``, ``serve``, ``lecture``, ``download``): the same
field, ``vaekit.settings.device_setting``, is every command's ``--device``.
"""

from __future__ import annotations

import argparse
import types
import typing
from dataclasses import fields

_PARSERS = {int: int, float: float, str: str}


def _parser_for(hint) -> type:
    """int, float or str for a field's type (``int | None`` -> int; tuples are parsed from text)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return _PARSERS.get(hint, str)


def add_config_flags(parser: argparse.ArgumentParser, cls) -> None:
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        meta = f.metadata
        if hints[f.name] is bool:
            parser.add_argument(flag(f.name), dest=f.name, action="store_true", default=None, help=meta.get("help"))
            continue
        choices = meta.get("choices")
        metavar = meta.get("metavar") or ("{" + ",".join(choices) + "}" if choices else None)
        parser.add_argument(flag(f.name), dest=f.name, type=_parser_for(hints[f.name]),
                            action="append" if meta.get("repeat") else "store",
                            default=None, required=meta.get("required", False), metavar=metavar,
                            help=meta.get("help"))


def config_values(args: argparse.Namespace, cls) -> dict:
    """The flags of ``cls``'s fields that were given: {field name: value}."""
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}


def flag(setting: str) -> str:
    return "--" + setting.replace("_", "-")
