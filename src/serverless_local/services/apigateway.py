"""API Gateway: the REST APIs of the template's `Api` events, served on the API port by `Gateway`."""

from __future__ import annotations

from typing import Any, ClassVar

from serverless_local.gateway import Gateway
from serverless_local.lambda_authorizer import LambdaAuthorizer
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.lambda_ import LambdaService
from serverless_local.stack import API_TYPE, read_apis


class ApiGatewayService(Service):
    """Routes, authorizers and the gateway's own answers; functions run through the Lambda service."""

    title: ClassVar[str] = "API Gateway"
    resource_types: ClassVar[frozenset[str]] = frozenset({API_TYPE})
    event_types: ClassVar[frozenset[str]] = frozenset({"Api"})

    uses_moto: ClassVar[bool] = False

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
        self.context.notes.extend(self.gateway.unenforced())

    def report(self) -> str:
        """Each API, its stage and its number of routes."""
        parts = []
        for api in self.apis.values():
            count = sum(1 for route in self.routes if route.api == api.logical_id)
            parts.append(f"{api.logical_id} (stage {api.stage}, {count} routes)")
        return ", ".join(parts) or "no APIs"

    def refuse(self, error: Any) -> Any:
        """The gateway's answer to a request the HTTP edge refused."""
        import uuid

        assert self.gateway is not None
        return self.gateway.error(error, str(uuid.uuid4()), None)
