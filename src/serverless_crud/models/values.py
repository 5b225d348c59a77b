"""Value rules that JSON Schema cannot say, without pydantic: the record model and the request
validator both call these, so each rule is written once."""

from __future__ import annotations

import re
from decimal import Decimal

#: DynamoDB numbers: up to 38 significant digits, magnitude between 1e-130 and 1e126.
MAX_SIGNIFICANT_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 125
#: A string that is not blank: it holds a character that str.strip() keeps. The white space of
#: str.isspace() is spelled out rather than written `\S`, whose meaning differs between regex
#: engines (Python's and ECMA-262's, which JSON Schema validators use, disagree on U+001C-U+001F,
#: U+0085 and U+FEFF); a test keeps the list equal to str.isspace().
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_NOT_BLANK = re.compile(NOT_BLANK)


def exact_number(value: object) -> Decimal:
    """`value` as a Decimal DynamoDB stores exactly, or ValueError saying why not."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("must be a number")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number and not MIN_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise ValueError("must be zero or between 1e-130 and 1e126 in magnitude")
    # Not Decimal.normalize(): it rounds to the context's 28 digits.
    significant = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(significant) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"must have at most {MAX_SIGNIFICANT_DIGITS} significant digits")
    return number


def not_blank(value: str) -> bool:
    """Whether `value` has a character other than white space."""
    return _NOT_BLANK.search(value) is not None


def trim(value: str) -> str:
    """The text without white space around it (what is stored)."""
    return value.strip()


def blank_to_none(value: str | None) -> str | None:
    """An empty optional text is no text."""
    return value or None


def number_text(value: int | Decimal) -> str:
    """The exact decimal text of a number, without an exponent."""
    return str(value) if isinstance(value, int) else format(value, "f")
