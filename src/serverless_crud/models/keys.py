"""The record's key rules and plain integers, without pydantic: shared by the model and every path."""

from __future__ import annotations

from functools import lru_cache

from serverless_crud.errors import InvalidParameter

#: Largest id the server accepts or assigns: every JavaScript client reads it exactly.
MAX_ID = 2**53 - 1
MAX_EMAIL_LENGTH = 254
#: DynamoDB's limit for a partition key value: no stored row can have a longer one.
MAX_KEY_BYTES = 2048


def plain_integer(raw: str, low: int, high: int) -> int | None:
    """`raw` as an int if it is ASCII digits only, within [low, high]; otherwise None.

    The length is checked before conversion, so no text is too long to be answered.
    """
    digits = raw.lstrip("0") or "0"
    if not (raw.isascii() and raw.isdigit()) or len(digits) > len(str(high)):
        return None
    value = int(digits)
    return value if low <= value <= high else None


#: Addresses whose verdict is remembered: an owner's address comes back with each of their writes,
#: and email-validator costs ~8% of a warm write. The rule is a pure function of the text.
EMAILS_REMEMBERED = 4096


@lru_cache(maxsize=EMAILS_REMEMBERED)
def _checked(value: str) -> str | None:
    """normalise_email's answer for `value`: the stored form, or None when it is no address."""
    # Imported on first use: its module compiles large Unicode patterns (~15 ms) that reads never need.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def normalise_email(value: str) -> str:
    """The stored form of an address, or ValueError: checked by email-validator (syntax only, no DNS
    lookup), then lower-cased. The only place an address is normalised."""
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValueError(f"must be a valid email address of at most {MAX_EMAIL_LENGTH} characters")
    normal = _checked(value)
    if normal is None:
        raise ValueError("must be a valid email address")
    return normal


def quick_key(value: str) -> str:
    """What normalise_email makes of an ASCII address, without its validation (an import's split
    compares keys at ~1 µs a row; email-validator takes ~80 µs): ValueError when it is not ASCII or
    has no @, normalise_email's own form otherwise."""
    text = value.strip()
    if text.isascii() and text.count("@") == 1:
        return text.lower()
    return normalise_email(value)


def is_stored_form(email: str) -> bool:
    """Whether `email` is already what normalise_email makes of it (cheap: no validation)."""
    return email.isascii() and email == email.lower()


def key_candidates(raw: str) -> list[str]:
    """The partition keys a URL's email may name, in the order to try them.

    First the text as given: rows written by other tools keep their own spelling (`Min@Example.com`)
    and the listing shows it. Then, when it differs, the address's stored form, so that
    `Alice@Example.com` finds the record the API stored as `alice@example.com`.
    """
    if not raw or len(raw.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        return []
    if is_stored_form(raw):
        return [raw]
    try:
        normal = normalise_email(raw)
    except ValueError:
        return [raw]
    return [raw] if normal == raw else [raw, normal]


def parse_id(raw: str) -> int:
    """A sort key from a URL: a plain integer from 1 to MAX_ID, or InvalidParameter."""
    value = plain_integer(raw, 1, MAX_ID)
    if value is None:
        raise InvalidParameter(f"the id must be a whole number from 1 to {MAX_ID}")
    return value
