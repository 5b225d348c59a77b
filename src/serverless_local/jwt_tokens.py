"""JSON Web Tokens as API Gateway's authorizers read them: the parts of a token, an RS256 signature."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Token:
    """A token's header and claims (not yet verified), what was signed and its signature."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signed: bytes
    signature: bytes


def parse(token: str) -> Token | None:
    """The parts of a compact JWT, or None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header, claims, signature = json_part(parts[0]), json_part(parts[1]), b64url(parts[2])
    if header is None or claims is None or signature is None:
        return None
    return Token(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def b64url(text: str) -> bytes | None:
    """base64url without padding, decoded (None if it is not)."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def json_part(text: str) -> dict[str, Any] | None:
    """A token part that is a base64url JSON object (None if it is not)."""
    raw = b64url(text)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@functools.cache
def _public_key(key: tuple[int, int]) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    modulus, exponent = key
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def rs256_valid(message: bytes, signature: bytes, key: tuple[int, int]) -> bool:
    """Whether `signature` is an RS256 signature of `message` by the RSA key (modulus, exponent)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        _public_key(key).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True
