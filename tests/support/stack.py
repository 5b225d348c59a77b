"""The product's template as the tests and the bench read it: its tables, functions, APIs and routes
(to build API Gateway events and run the gateway without a server)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serverless_local.stack import (
    API_TYPE,
    FUNCTION_TYPE,
    ApiSpec,
    FunctionSpec,
    LocalTemplate,
    Route,
    read_apis,
    read_functions,
    ttls,
)
from serverless_local.template import TABLE_TYPES, table_definitions

#: `AWS::StackName` as `serverless-crud serve` names the local stack.
STACK_NAME = "serverless-crud-local"


@dataclass
class LocalStack:
    """What the functions and the gateway of one template are (tests and the bench build events with it)."""

    tables: dict[str, dict[str, Any]]
    ttl: dict[str, dict[str, Any]]
    functions: dict[str, FunctionSpec]
    apis: dict[str, ApiSpec]
    routes: list[Route]
    ignored: list[str]


def read_stack(path: str | Path, overrides: Mapping[str, Any] | None = None) -> LocalStack:
    """Read a SAM template into what runs locally; a TemplateError names the resource it cannot run."""
    template = LocalTemplate(path, overrides, STACK_NAME)
    functions = read_functions(template)
    apis, routes = read_apis(template)
    handled = {FUNCTION_TYPE, API_TYPE, *TABLE_TYPES}
    ignored = [f"{r.logical_id} ({r.type})" for r in template.resources.values() if r.type not in handled]
    ignored += [
        f"{e.owner}.Events.{e.event_id} ({e.type} events are not run locally)"
        for e in template.events()
        if e.type != "Api"
    ]
    return LocalStack(
        table_definitions(template.document, overrides, STACK_NAME),
        ttls(template.document, template.resolver),
        functions,
        apis,
        routes,
        ignored,
    )
