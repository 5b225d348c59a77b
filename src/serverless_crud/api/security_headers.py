"""The headers a browser expects on every response, set in one place (`api.app.resolve`).

- `X-Content-Type-Options: nosniff` on every response, JSON and problem+json included: a browser
  never guesses another type than the one declared.
- `Referrer-Policy: no-referrer`: the pages' addresses hold emails and record ids; no other site
  (nor this one) is told them through Referer.
- `Strict-Transport-Security` when the request came over HTTPS (API Gateway says so in
  X-Forwarded-Proto on AWS, its only scheme): browsers then never try plain HTTP for the host. Not
  `includeSubDomains`: a custom domain's siblings are not the stack's to decide for. The local
  server speaks plain HTTP and gets none (a browser ignores it there anyway).
"""

from __future__ import annotations

from typing import Any

HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HSTS = "max-age=31536000"


def over_https(event: dict[str, Any]) -> bool:
    """Whether the client reached API Gateway over HTTPS."""
    headers = event.get("headers") or {}
    proto = next((v for k, v in headers.items() if k.lower() == "x-forwarded-proto"), "")
    return isinstance(proto, str) and proto.strip().lower() == "https"


def add_security_headers(event: dict[str, Any], response: dict[str, Any]) -> None:
    """Set the headers above on `response` (a proxy response), keeping any a route set itself."""
    multi = response.setdefault("multiValueHeaders", {})
    single = response.get("headers") or {}
    present = {name.lower() for name in (*multi, *single)}
    wanted = {**HEADERS, **({"Strict-Transport-Security": HSTS} if over_https(event) else {})}
    for name, value in wanted.items():
        if name.lower() not in present:
            multi[name] = [value]
