"""JSON with exact numbers: bodies parse to Decimal, Decimals serialise with every digit.

The standard library (and Powertools' encoder) would turn Decimal into float or string; neither
keeps `12345678901234567890.123456789` as that JSON number.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any


class MalformedJson(ValueError):
    """The text is not one JSON document of the accepted kind."""


#: Integers longer than this are parsed as Decimal: int() of a very long text is refused by Python
#: (and costly), while the rules that read the number reject it with their own sentence.
_MAX_INT_DIGITS = 40
#: Deeper nesting than any record needs; also keeps the parser far from Python's recursion limit.
MAX_DEPTH = 64


def _reject_constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJson(f"the member {encode_basestring(key)} appears twice")
        result[key] = value
    return result


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


def _depth(text: str) -> int:
    """How deeply arrays and objects nest (brackets inside strings not counted)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse(text: str) -> Any:
    """Parse JSON: fractions become Decimal, integers int; NaN, Infinity, duplicate keys and nesting
    deeper than MAX_DEPTH are errors, each with a sentence of our own."""
    # Counting brackets is fast; only a text with enough of them can nest too deep.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise MalformedJson(f"it nests arrays or objects more than {MAX_DEPTH} deep")
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=_integer,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except MalformedJson:
        raise
    except json.JSONDecodeError as error:
        reason = _REASONS.get(error.msg, "unexpected text")
        raise MalformedJson(f"{reason} at line {error.lineno}, column {error.colno}") from None
    except (ValueError, RecursionError):
        raise MalformedJson("it could not be read") from None


#: The standard parser's reasons, in our words.
_REASONS = {
    "Expecting value": "a value was expected",
    "Extra data": "there is more after the JSON value",
    "Unterminated string starting at": "a string is not closed",
    "Invalid control character at": "a string holds a control character",
    "Invalid \\escape": "a string holds an invalid escape",
    "Invalid \\uXXXX escape": "a string holds an invalid \\u escape",
    "Expecting property name enclosed in double quotes": "a member name in double quotes was expected",
    "Expecting ':' delimiter": "a colon was expected",
    "Expecting ',' delimiter": "a comma was expected",
    "Unexpected UTF-8 BOM (decode using utf-8-sig)": "the text starts with a byte order mark",
}


#: What stands for a Decimal while the standard (C) encoder writes the rest: a per-process secret no
#: text can carry by chance or by design, replaced by the number's exact digits afterwards.
_SECRET = secrets.token_hex(16)
_NUMBER = re.compile(r'"\\u0000' + _SECRET + r'([-0-9.]+)\\u0000"')


def dumps(value: Any) -> str:
    """Serialise to compact JSON; Decimal values are written as exact numbers."""
    found = [0]

    def other(item: Any) -> Any:
        if isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"{item} has no JSON form")
            found[0] += 1
            return f"\x00{_SECRET}{item:f}\x00"
        if isinstance(item, Mapping):
            return dict(item)
        raise TypeError(f"cannot serialise {type(item).__name__} to JSON")

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=other)
    return _NUMBER.sub(_digits, text) if found[0] else text


def _digits(match: re.Match[str]) -> str:
    return match.group(1)
