"""Drive the Lambda handler with API Gateway REST proxy events, like a small HTTP client."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.support.events import lambda_context, rest_event


class Headers(dict[str, str]):
    """Response headers, looked up whatever their case."""

    def __getitem__(self, name: str) -> str:
        for key, value in self.items():
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default


@dataclass
class Reply:
    """A proxy response as a client sees it."""

    status: int
    headers: Headers
    body: str
    raw: dict[str, Any]

    def json(self) -> Any:
        """The body parsed with exact numbers."""
        return json.loads(self.body, parse_float=Decimal)


class HandlerClient:
    """Sends requests to `serverless_crud.handler.lambda_handler` as API Gateway would."""

    def __init__(self, stage: str = "dev", claims: dict[str, str] | None = None) -> None:
        self.stage = stage
        #: The Cognito authorizer's claims every request carries (None: no authorizer ran).
        self.claims = claims
        self.events: list[dict[str, Any]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        """Send `method path` through the gateway's event builder to the handler."""
        kwargs.setdefault("claims", self.claims)
        event = rest_event(method, path, stage=self.stage, **kwargs)
        self.events.append(event)
        return self.send(event)

    def send(self, event: dict[str, Any]) -> Reply:
        """Invoke the handler with a prepared event."""
        from serverless_crud.handler import lambda_handler

        response = lambda_handler(event, lambda_context())
        headers = Headers(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(name, ", ".join(values))
        body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(body)
            # A browser or curl undoes Content-Encoding: so does this client.
            body = (gzip.decompress(raw) if headers.get("Content-Encoding") == "gzip" else raw).decode()
        return Reply(response["statusCode"], headers, body, response)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, body=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PUT", path, body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        headers = {"Content-Type": "application/merge-patch+json", **kwargs.pop("headers", {})}
        text = body if isinstance(body, str) else json.dumps(body)
        return self.request("PATCH", path, body=text, headers=headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)
