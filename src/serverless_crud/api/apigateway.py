"""The API Gateway definition of the REST API (openapi/apigateway.json), made from the route
declarations: which resources API Gateway has, who may call each, and the Lambda proxy integration
behind them. `make schemas` writes it; SAM's `RecordsApi.DefinitionBody` in template.yaml is written
from it (scripts/generate_schemas.py) and a Terraform module reads it with `templatefile`.

Resources: each signed-in route's path up to its first parameter, then `/{proxy+}` when it has
parameters (`/records/{email}/{id}` is `/records/{proxy+}`), guarded by the Cognito authorizer; the
public routes (the UI, /health, the document) share `/` and the catch-all `/{proxy+}`. Each resource
has ANY, so the function answers every method (405 with Allow, 404 as problem+json), and OPTIONS, open
to browsers' preflights. Values that differ per deployment are `${name}` placeholders (PLACEHOLDERS).
What depends on a deployment's parameters is applied by each consumer, not written here: the open
mode (no `cognito` requirement or scheme) and the API key (`{"api_key": []}` added to every signed-in
method's security).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from serverless_crud.api.routing import SIGNED_IN, Route

#: The per-deployment values of the definition, and what each is.
PLACEHOLDERS = {
    "api_name": "the REST API's name",
    "records_function_invoke_arn": "the invoke ARN of the function (its alias) serving every route "
    "(arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations)",
    "user_pool_arn": "the ARN of the Cognito user pool whose ID tokens sign requests in",
}
CATCH_ALL = "/{proxy+}"
ANY = "x-amazon-apigateway-any-method"
SIGNED_IN_SECURITY: list[dict[str, list[str]]] = [{"cognito": []}]


def _placeholder(name: str) -> str:
    assert name in PLACEHOLDERS
    return "${" + name + "}"


def resource_of(route: Route) -> str:
    """The API Gateway resource a route is served under (see the module's docstring)."""
    if route.access != SIGNED_IN:
        return "/" if route.path == "/" else CATCH_ALL
    head = route.path.split("{", 1)[0].rstrip("/")
    return head + CATCH_ALL if route.parameter_names else route.path


def resources(routes: Iterable[Route]) -> dict[str, bool]:
    """Each resource (in declaration order) and whether it is signed-in; ValueError when a public
    route would be caught by a signed-in resource, or one resource would serve both."""
    found: dict[str, bool] = {"/": False, CATCH_ALL: False}
    for route in routes:
        resource, guarded = resource_of(route), route.access == SIGNED_IN
        if found.setdefault(resource, guarded) != guarded:
            raise ValueError(
                f"{route.method} {route.path}: {resource} would serve public and signed-in routes"
            )
    for route in routes:
        served = most_specific(route.example_path(), found)
        if found[served] != (route.access == SIGNED_IN):
            raise ValueError(f"{route.method} {route.path} would be served by {served}, whose access differs")
    public = ("/", CATCH_ALL)
    return {**{r: g for r, g in found.items() if r not in public}, **{r: found[r] for r in public}}


def most_specific(path: str, candidates: Iterable[str]) -> str:
    """The resource API Gateway matches `path` to: an exact path first, then the longest proxy prefix."""
    exact = [c for c in candidates if "{" not in c and c == path]
    if exact:
        return exact[0]
    proxies = [c for c in candidates if c.endswith(CATCH_ALL) and re.match(_proxy_pattern(c), path)]
    return max(proxies, key=len)


def _proxy_pattern(resource: str) -> str:
    return "^" + re.escape(resource[: -len(CATCH_ALL)]) + "/.+$"


def _method(security: list[Any]) -> dict[str, Any]:
    return {
        "security": security,
        "x-amazon-apigateway-integration": {
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": _placeholder("records_function_invoke_arn"),
        },
    }


def definition(routes: list[Route]) -> dict[str, Any]:
    """The API Gateway OpenAPI definition of `routes`."""
    paths = {
        resource: {ANY: _method(SIGNED_IN_SECURITY if guarded else []), "options": _method([])}
        for resource, guarded in resources(routes).items()
    }
    return {
        "openapi": "3.0.1",
        "info": {
            "title": _placeholder("api_name"),
            "version": "1.0",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                # API Gateway's Cognito authorizer: the Authorization header holds an ID token of the
                # pool (raw or "Bearer <token>"); 401 before the function runs otherwise.
                "cognito": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {
                        "type": "cognito_user_pools",
                        "providerARNs": [_placeholder("user_pool_arn")],
                    },
                },
            }
        },
    }
