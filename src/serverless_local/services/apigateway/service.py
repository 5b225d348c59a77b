"""API Gateway: the REST APIs of the template's `Api` events, served on the API port by `Gateway`."""

from __future__ import annotations

import hmac
import secrets
from typing import Any, ClassVar

from serverless_local.http import GatewayError, HttpRequest
from serverless_local.journal import write_private
from serverless_local.services.apigateway.gateway import API_KEY, FORBIDDEN, Gateway
from serverless_local.services.apigateway.lambda_authorizer import LambdaAuthorizer
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.lambda_.service import LambdaService
from serverless_local.stack import API_TYPE, ApiSpec, LocalTemplate, read_apis

API_KEY_FILE = "api-key"


class ApiKeyCheck:
    """API Gateway's API key requirement: 403 {"message":"Forbidden"} without the key in x-api-key."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(
        self, api: ApiSpec, name: str, declared: Any, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        sent = next((v for k, v in (event["headers"] or {}).items() if k.lower() == "x-api-key"), "")
        if not hmac.compare_digest(sent.encode(), self.key.encode()):
            return FORBIDDEN
        event["requestContext"]["identity"]["apiKey"] = sent
        return None


class ApiGatewayService(Service):
    """Routes, authorizers and the gateway's own answers; functions run through the Lambda service."""

    title: ClassVar[str] = "API Gateway"
    resource_types: ClassVar[frozenset[str]] = frozenset({API_TYPE})
    event_types: ClassVar[frozenset[str]] = frozenset({"Api"})

    uses_moto: ClassVar[bool] = False

    @classmethod
    def check(cls, template: LocalTemplate) -> None:
        """An API or a route the runtime could never serve stops the start."""
        read_apis(template)

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.apis, self.routes = read_apis(context.template)
        self.gateway: Gateway | None = None

    def start(self) -> None:
        """Build the gateway on the Lambda service, with every authorizer registered so far."""
        functions = self.context.service(LambdaService)
        self.gateway = Gateway(self, functions.invoke, self.context.options.integration_timeout)
        # API Gateway's own kind; services add theirs (the user pool service: COGNITO_USER_POOLS).
        self.gateway.authorizers["LAMBDA"] = LambdaAuthorizer(
            self.context.template.resolver, functions.invoke
        )
        self.gateway.authorizers.update(self.context.authorizers)
        if any(a.api_key_required for r in self.routes for a in (r.auth, *r.method_auth.values())):
            self.gateway.authorizers[API_KEY] = ApiKeyCheck(self._api_key())
        self.context.notes.extend(self.gateway.unenforced())
        self.context.api_refusal = self.refuse
        self.context.api_stages.update(api.stage for api in self.apis.values())
        if self.routes:
            self.context.api_routers.append(self.gateway)

    def _api_key(self) -> str:
        """The local value of the template's API key: generated once, kept in the state directory (0600)."""
        path = self.context.options.state_dir / API_KEY_FILE
        if not path.exists():
            write_private(path, (secrets.token_urlsafe(30) + "\n").encode(), sync=self.context.options.sync)
        path.chmod(0o600)  # written 0600; an older version left it wider
        self.context.notes.append(f"API key required (header x-api-key): its value is in {path}")
        return path.read_text().strip()

    def report(self) -> str:
        """Each API, its stage and its number of routes."""
        parts = []
        for api in self.apis.values():
            count = sum(1 for route in self.routes if route.api == api.logical_id)
            parts.append(f"{api.logical_id} (stage {api.stage}, {count} routes)")
        return ", ".join(parts)

    def refuse(self, error: Any) -> Any:
        """The gateway's answer to a request the HTTP edge refused."""
        import uuid

        assert self.gateway is not None
        return self.gateway.error(error, str(uuid.uuid4()), None)
