"""Opaque, tamper-evident pagination cursors: DynamoDB's LastEvaluatedKey, signed with HMAC-SHA256.

A cursor is bound to the listing it came from (a partition or the whole table), so it cannot be
replayed against another one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from serverless_crud.errors import InvalidCursor

_VERSION = 1
_MAX_LENGTH = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def encode_cursor(secret: bytes, scope: str, last_key: dict[str, Any]) -> str:
    """Sign DynamoDB's LastEvaluatedKey for the listing named by `scope`."""
    payload = json.dumps({"v": _VERSION, "s": scope, "k": last_key}, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def decode_cursor(secret: bytes, scope: str, cursor: str) -> dict[str, Any]:
    """Verify a cursor and return its ExclusiveStartKey, or raise InvalidCursor."""
    try:
        if len(cursor) > _MAX_LENGTH:
            raise ValueError("too long")
        body, _, signature = cursor.partition(".")
        payload = _unb64(body)
        valid = hmac.compare_digest(_signature(secret, payload), _unb64(signature))
    except ValueError:
        valid = False
    if not valid:
        raise InvalidCursor("the cursor is not one this service issued, or it was altered")
    data = json.loads(payload)
    if data.get("v") != _VERSION or data.get("s") != scope or not isinstance(data.get("k"), dict):
        raise InvalidCursor("the cursor belongs to another listing")
    key: dict[str, Any] = data["k"]
    return key
