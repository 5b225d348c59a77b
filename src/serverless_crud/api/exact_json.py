"""JSON with exact numbers: bodies parse to Decimal, Decimals serialise with every digit.

The standard library (and Powertools' encoder) would turn Decimal into float or string; neither
keeps `12345678901234567890.123456789` as that JSON number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any


class MalformedJson(ValueError):
    """The text is not one JSON document of the accepted kind."""


def _reject_constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJson(f"the member {key!r} appears twice")
        result[key] = value
    return result


def parse(text: str | bytes) -> Any:
    """Parse JSON: fractions become Decimal, integers int; NaN, Infinity and duplicate keys are errors."""
    try:
        return json.loads(
            text, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
        )
    except MalformedJson:
        raise
    except (ValueError, RecursionError) as error:
        raise MalformedJson(str(error)) from None


def dumps(value: Any) -> str:
    """Serialise to compact JSON; Decimal values are written as exact numbers."""
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _write(value: Any, out: Any) -> None:
    if isinstance(value, str):
        out(encode_basestring(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, int):
        out(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON form")
        out(format(value, "f"))
    elif isinstance(value, float):
        out(json.dumps(value, allow_nan=False))
    elif isinstance(value, Mapping):
        out("{")
        for index, (key, item) in enumerate(value.items()):
            out("," if index else "")
            out(encode_basestring(str(key)))
            out(":")
            _write(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            out("," if index else "")
            _write(item, out)
        out("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
