"""The one set of validators for settings and arguments: integers, sizes, seeds, choices, numbers.

Each raises ``ConfigError`` whose message starts with the parameter's name and says what
was expected and what was got: ``latent must be a positive integer; got 0``.  The CLI
shows the flag in place of the name (``--latent must be ...``).  Every layer uses them, the
data generators and the web server's request checks too; ``note`` adds what a setting is
for to the message.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .errors import ConfigError

# A sanity bound on every size (widths, latent, channels, image sides), far above anything that
# fits in memory: it stops an absurd value (a typo, an overflow) before any size arithmetic.
# Whether a model fits in a device's memory is checked where the device is known (train.limits).
MAX_SIZE = 1 << 24
MAX_SEED = 2 ** 63 - 1   # torch.Generator.manual_seed's range
_SHOWN = 80              # characters of a bad value shown in a message


def _fail(name: str, expected: str, value) -> ConfigError:
    return ConfigError(f"{name} must be {expected}; got {_shown(value)}", setting=name)


def _shown(value) -> str:
    """``repr(value)``, short: a huge integer as its number of digits, a long text cut (a hostile
    value, a 400-digit number or a megabyte of text, must not make a huge message)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 130:   # over 39 digits
        try:
            digits = len(str(abs(value)))
        except ValueError:   # past Python's limit on converting ints to text
            digits = int(value.bit_length() * math.log10(2)) + 1
        return f"an integer of {digits} digits"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


@contextmanager
def note(text: str) -> Iterator[None]:
    """Within the block, a ConfigError's message gets `` (text)`` appended: what the setting is
    for, or how to fix it (``seeds must be an integer in [1, 20]; got 0 (each seed trains ...)``)."""
    try:
        yield
    except ConfigError as e:
        raise ConfigError(f"{e} ({text})", setting=e.setting) from None


def integer(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """An int (not a bool) with low <= value <= high where given; returns it."""
    if low == 1 and high is None:
        expected = "a positive integer"
    elif high is None:
        expected = "an integer" if low is None else f"an integer >= {low}"
    else:
        expected = f"an integer in [{low if low is not None else '-inf'}, {high}]"
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, expected, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail(name, expected, value)
    return value


def positive_int(name: str, value) -> int:
    return integer(name, value, low=1)


def number(name: str, value, low: float | None = None, positive: bool = False,
           high: float | None = None) -> float:
    """A finite int or float (not a bool), > 0 if ``positive``, within [low, high] where given;
    returns a float."""
    if positive:
        expected = "a finite number > 0"
    elif low is not None and high is not None:
        expected = f"a finite number in [{low:g}, {high:g}]"
    elif low is not None:
        expected = f"a finite number >= {low:g}"
    elif high is not None:
        expected = f"a finite number <= {high:g}"
    else:
        expected = "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(name, expected, value)
    try:
        finite = math.isfinite(value)
    except OverflowError:   # an int past float's range
        finite = False
    if not finite or (positive and value <= 0) or (low is not None and value < low) \
            or (high is not None and value > high):
        raise _fail(name, expected, value)
    return float(value)


def boolean(name: str, value) -> bool:
    """True or False (not 0 or 1, not text); returns it."""
    if not isinstance(value, bool):
        raise _fail(name, "True or False", value)
    return value


def seed(name: str, value) -> int:
    """A random seed: an int in [0, MAX_SEED]; returns it."""
    return integer(name, value, 0, MAX_SEED)


def choice(name: str, value, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise _fail(name, f"one of {', '.join(choices)}", value)
    return value


def text(name: str, value, optional: bool = False) -> str | None:
    """A non-empty string (or None where ``optional``); returns it."""
    if (value is None and optional) or (isinstance(value, str) and value):
        return value
    raise _fail(name, "a non-empty string", value)


def texts(name: str, values) -> tuple[str, ...]:
    """A tuple of non-empty strings from any sequence of them (one string alone is not one)."""
    expected = "a sequence of non-empty strings"
    if isinstance(values, (str, bytes)):
        raise _fail(name, expected, values)
    try:
        values = tuple(values)
    except TypeError:
        raise _fail(name, expected, values) from None
    if not all(isinstance(v, str) and v for v in values):
        raise _fail(name, expected, values)
    return values


def size(name: str, value) -> int:
    """A positive int no larger than MAX_SIZE; returns it."""
    positive_int(name, value)
    if value > MAX_SIZE:
        integer(name, value, low=1, high=MAX_SIZE)   # raises, with the range in the message
    return value


def sizes(name: str, values, count: int | None = None, allow_empty: bool = False) -> tuple[int, ...]:
    """A tuple of ``size``s from any sequence of ints (numpy ints too), ``count`` long where given
    (empty only with ``allow_empty``)."""
    expected = f"{count} positive integers" if count is not None else "one or more positive integers"
    if isinstance(values, (str, bytes)):
        raise _fail(name, expected, values)
    try:
        values = tuple(_as_int(v) for v in values)
    except TypeError:
        raise _fail(name, expected, values) from None
    if (count is not None and len(values) != count) or (not values and not allow_empty):
        raise _fail(name, expected, values)
    return tuple(size(name, v) for v in values)


def size_pair(name: str, value) -> tuple[int, int]:
    """(H, W) from a ``size`` s, meaning (s, s), or from a pair of them (numpy ints too)."""
    pair = (value, value) if not isinstance(value, bool) and isinstance(_as_int(value), int) else value
    try:
        return sizes(name, pair, count=2)
    except ConfigError:
        raise _fail(name, "a positive integer or (H, W) of positive integers", value) from None


def _as_int(value):
    """numpy and other integer types as int; anything else unchanged, for the validator to reject."""
    if isinstance(value, bool) or isinstance(value, int):
        return value
    try:
        return operator.index(value)
    except TypeError:
        return value


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def duration(name: str, value) -> float:
    """A positive, finite duration in seconds: a number of seconds, or text like "90s", "30m", "1.5h"."""
    expected = 'a positive duration: seconds, or a number with s, m or h, like "90s", "30m", "1.5h"'
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        scale = _UNITS.get(text[-1:], None)
        number = text[:-1] if scale is not None else text
        try:
            seconds = float(number) * (scale or 1.0)
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise _fail(name, expected, value)
    return seconds
