"""The caller of a request, from what API Gateway's authorizer put in the event: the only place a
`Caller` is made.

With `AUTH_MODE=none` every request is `Caller.open()`. With `AUTH_MODE=cognito` the Cognito
authorizer has checked the ID token and passed its claims in `requestContext.authorizer.claims`,
every value a string. The function still refuses (401) a request without them, or whose email is not
verified: defence in depth, should the API ever route a path around the authorizer.
"""

from __future__ import annotations

import json
from typing import Any

from serverless_crud import settings
from serverless_crud.api.request import Request
from serverless_crud.errors import Unauthenticated
from serverless_crud.logic.access import ADMIN_GROUP, Caller


def caller(event: Request) -> Caller:
    """Who sent `event`; Unauthenticated when sign-in is required and the claims do not vouch."""
    if not settings.current().signs_in:
        return Caller.open()
    context = event.raw_event.get("requestContext") or {}
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    if not isinstance(claims, dict):
        raise Unauthenticated("sign in first: the request carries no verified identity")
    subject, email = _text(claims.get("sub")), _text(claims.get("email")).lower()
    if not subject or not email or _text(claims.get("email_verified")).lower() != "true":
        raise Unauthenticated("sign in with a verified email: the identity has none")
    if _text(claims.get("token_use")) not in ("", "id"):
        raise Unauthenticated("sign in with an ID token")
    return Caller(subject=subject, email=email, admin=ADMIN_GROUP in groups(claims.get("cognito:groups")))


def groups(value: Any) -> frozenset[str]:
    """The names in a `cognito:groups` claim, in any of the shapes it arrives in: `admin`,
    `admin,editors` (API Gateway REST), `[admin editors]` (a formatted list), a JSON list (the token's
    own shape, passed through unchanged)."""
    if isinstance(value, list):
        return frozenset(str(name) for name in value)
    text = _text(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return frozenset(str(name) for name in parsed)
        text = text[1:-1]
    return frozenset(name for name in text.replace(",", " ").split() if name)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
