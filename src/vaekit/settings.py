"""The fields of the settings dataclasses, each with its flag's help, and the one ``device`` setting.

A settings dataclass (``train.TrainConfig``, ``eval.config.EvalConfig``, ``web.config.ServeConfig``,
``lecture.plan.Plan``, ``data.download.DownloadConfig``) declares each setting as
``name: type = setting(default, "help", **meta)``; the CLI makes one flag per field from it
(``cli/flags.py``), so a new field is a new flag.  Metadata: ``help``; optionally ``choices``
(shown in the usage line, checked by the dataclass), ``metavar``, ``required``, and ``repeat``
(a tuple field whose flag may be given several times).  No torch here: the CLI reads these to
build its parser.
"""

from __future__ import annotations

from dataclasses import field, fields

from . import validate

DEVICES = ("auto", "cpu", "cuda")


def setting(default, help: str, **meta):
    """A dataclass field with its flag's help text (and, optionally, choices, metavar, ...)."""
    return field(default=default, metadata={"help": help, **meta})


def device_setting():
    """The device every command runs on: one definition, so every ``--device`` is the same flag."""
    return setting("auto", "auto (default: a CUDA GPU if PyTorch sees one), cpu or cuda", choices=DEVICES)


def check_choices(config) -> None:
    """ConfigError unless every field of ``config`` with ``choices`` holds one of them."""
    for f in fields(config):
        if "choices" in f.metadata:
            validate.choice(f.name, getattr(config, f.name), f.metadata["choices"])
