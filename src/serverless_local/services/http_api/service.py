"""API Gateway HTTP APIs: the template's `HttpApi` events, served on the API port (http_api)."""

from __future__ import annotations

from typing import ClassVar

from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.http_api.authorizers import JwtAuthorizer, LambdaHttpAuthorizer
from serverless_local.services.http_api.gateway import HTTP_API_TYPE, HttpGateway, read_http_apis
from serverless_local.services.lambda_.service import LambdaService


class HttpApiService(Service):
    """Routes, authorizers and HTTP API's own answers; functions run through the Lambda service."""

    title: ClassVar[str] = "HTTP API"
    resource_types: ClassVar[frozenset[str]] = frozenset({HTTP_API_TYPE})
    event_types: ClassVar[frozenset[str]] = frozenset({"HttpApi"})
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.apis, self.routes = read_http_apis(context.template)
        self.gateway: HttpGateway | None = None

    def start(self) -> None:
        """Build the gateway on the Lambda service, with the authorizers it can run."""
        functions = self.context.service(LambdaService)
        resolver = self.context.template.resolver
        self.gateway = HttpGateway(self.apis, self.routes, functions.invoke)
        self.gateway.authorizers["LAMBDA"] = LambdaHttpAuthorizer(resolver, functions.invoke)
        issuer_keys = self.context.issuer_keys
        self.gateway.authorizers["JWT"] = JwtAuthorizer(resolver, issuer_keys or (lambda issuer: None))
        self.context.notes.extend(self.gateway.unenforced())
        if self.routes:
            self.context.api_routers.append(self.gateway)

    def connect(self) -> None:
        """Say which JWT authorizers trust an issuer that is not a user pool here (the pools exist now)."""
        resolver = self.context.template.resolver
        issuer_keys = self.context.issuer_keys
        for api in self.apis.values():
            for name, declared in api.authorizers.items():
                issuer = str(resolver.resolve((declared.get("JwtConfiguration") or {}).get("issuer") or ""))
                if issuer and (issuer_keys is None or issuer_keys(issuer) is None):
                    self.context.notes.append(
                        f"{api.logical_id}: the JWT authorizer {name} trusts {issuer}, not a user pool of "
                        "this template: its tokens cannot be verified locally and are refused"
                    )

    def report(self) -> str | None:
        """Each HTTP API, its stage and routes."""
        if not self.routes:
            return None
        parts = []
        for api in self.apis.values():
            count = sum(1 for route in self.routes if route.api == api.logical_id)
            parts.append(f"{api.logical_id} (stage {api.stage}, {count} routes)")
        return ", ".join(parts)
