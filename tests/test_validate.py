"""The one set of validators (vaekit.validate): what each accepts, and messages that name the parameter."""

import numpy as np
import pytest

from vaekit import validate
from vaekit.errors import ConfigError


def refused(match, f, *args, **kwargs):
    with pytest.raises(ConfigError, match=match) as info:
        f(*args, **kwargs)
    return info.value


def test_integers_sizes_and_seeds():
    assert validate.positive_int("n", 3) == 3
    e = refused(r"^n must be a positive integer; got 0$", validate.positive_int, "n", 0)
    assert e.setting == "n"
    refused(r"^n must be an integer >= 0; got -1$", validate.integer, "n", -1, low=0)
    refused(r"^n must be an integer >= 0; got True$", validate.integer, "n", True, low=0)
    refused(r"^size must be an integer in \[1, 16777216\]; got 16777217$", validate.size, "size", 2 ** 24 + 1)
    assert validate.seed("seed", 2 ** 63 - 1) == 2 ** 63 - 1
    refused(r"^seed must be an integer in \[0, 9223372036854775807\]; got -1$", validate.seed, "seed", -1)


def test_size_pair():
    assert validate.size_pair("image_size", 8) == (8, 8)
    assert validate.size_pair("image_size", (6, np.int64(4))) == (6, 4)
    for bad in (0, (3,), (3, 0), 2.5, "8", True):
        refused(r"^image_size must be a positive integer or \(H, W\) of positive integers; got ",
                validate.size_pair, "image_size", bad)


def test_numbers_in_a_range_and_huge_values():
    assert validate.number("z", 3, low=-5, high=5) == 3.0
    refused(r"^z must be a finite number in \[-5, 5\]; got 6$", validate.number, "z", 6, low=-5, high=5)
    refused(r"^z must be a finite number in \[-5, 5\]; got nan$", validate.number, "z", float("nan"), low=-5, high=5)
    refused(r"^lr must be a finite number > 0; got an integer of 401 digits$", validate.number, "lr", 10 ** 400,
            positive=True)
    refused(r"^x must be a finite number; got 'aaaa.*\.\.\.$", validate.number, "x", "a" * 10 ** 6)
    assert len(str(refused("^x ", validate.number, "x", "a" * 10 ** 6))) < 120


def test_booleans_and_notes():
    assert validate.boolean("quick", False) is False
    refused(r"^quick must be True or False; got 1$", validate.boolean, "quick", 1)
    with pytest.raises(ConfigError, match=r"^seeds must be an integer in \[1, 20\]; got 0 \(each seed costs\)$") as e:
        with validate.note("each seed costs"):
            validate.integer("seeds", 0, 1, 20)
    assert e.value.setting == "seeds"
