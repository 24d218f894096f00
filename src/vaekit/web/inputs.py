"""Request values checked into Python values and tensors, each failure a one-line ``BadInput``.

Every check names the field, what was expected and what was got, so the page (and a user with
curl) can show the message as it is.  Numbers are checked by ``vaekit.validate``, as every
setting is.  Nothing here touches a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .. import validate
from ..errors import ConfigError, VaekitError


class BadInput(VaekitError):
    """A request the server refuses; ``status`` is the HTTP status to answer with (400 unless said)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if value is None:
        return "null"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return repr(value)[:40]


@contextmanager
def _bad_input() -> Iterator[None]:
    """A validator's ConfigError as a BadInput (400), its message unchanged."""
    try:
        yield
    except ConfigError as e:
        raise BadInput(str(e)) from None


def integer(name: str, value, low: int, high: int) -> int:
    """An int in [low, high] (JSON numbers like 3.0 are not accepted: an index is a whole number)."""
    with _bad_input():
        return validate.integer(name, value, low, high)


def label(value, classes: int | None, model: int, field: str = "label") -> int | None:
    """The class y a request names for model ``model``: an int in 0..classes−1, or None when absent (or null).

    ``classes`` is the model's number of classes for a conditional model, None for an unconditional
    one, which takes no label.  Whether an absent label may be defaulted is the route's business.
    """
    if value is None:
        return None
    if classes is None:
        raise BadInput(f"{field}: model {model} is not conditional (trained without --condition label); "
                       "it takes no label")
    return integer(field, value, 0, classes - 1)


def choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise BadInput(f"{name}: expected one of {', '.join(choices)}; got {_kind(value)}")
    return value


def codes(value, latent: int, max_codes: int, max_abs: float) -> tuple[torch.Tensor, bool]:
    """``z`` as one code [L numbers] or several [[L numbers], ...] -> ((n, L) float32, whether one was given).

    Every entry must be a finite number within ±``max_abs`` (NaN, infinities, strings and
    booleans are refused, and so are huge finite numbers: 1e308 or a 400-digit integer would
    overflow float32, or the decoder's activations, into NaN); at most ``max_codes`` codes,
    each of exactly ``latent`` numbers.
    """
    if not isinstance(value, list) or not value:
        raise BadInput(f"z: expected a list of {latent} numbers, or a list of such lists; got {_kind(value)}")
    single = not isinstance(value[0], list)
    rows = [value] if single else value
    if len(rows) > max_codes:
        raise BadInput(f"z: {len(rows)} codes in one request; at most {max_codes}")
    for i, row in enumerate(rows):
        where = "z" if single else f"z[{i}]"
        if not isinstance(row, list):
            raise BadInput(f"{where}: expected a list of {latent} numbers; got {_kind(row)}")
        if len(row) != latent:
            raise BadInput(f"{where}: expected {latent} numbers (the model's latent size); got {len(row)}")
        for j, v in enumerate(row):
            finite_number(f"{where}[{j}]", v, -max_abs, max_abs)
    return torch.tensor(rows, dtype=torch.float32), single


def finite_number(name: str, value, low: float, high: float) -> float:
    """An int or float in [low, high], finite (an int of any size is compared exactly)."""
    with _bad_input():
        return validate.number(name, value, low=low, high=high)


def only_keys(body: dict, allowed: tuple[str, ...], what: str = "the request") -> None:
    """Refuse unknown keys (a typo like ``"indx"`` should not silently use a default)."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadInput(f"{what}: unknown field {unknown[0]!r}; expected fields: {', '.join(allowed)}")
