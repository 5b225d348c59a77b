"""API Gateway's request validation on a REST API method, before its function runs.

A method validates what its request validator says: SAM's `RequestModel` with `ValidateBody` and/or
`ValidateParameters` (the model one of the API's `Models`, JSON Schema draft 4), or an OpenAPI body's
`x-amazon-apigateway-request-validators` named by the operation's (or the API's)
`x-amazon-apigateway-request-validator`, with the operation's parameters and body schema. A body that is
not JSON or does not match the model is `400 {"message": "Invalid request body"}` (gateway response
BAD_REQUEST_BODY); a required header, query string or path parameter that is missing is
`400 {"message": "Missing required request parameters: [name]"}` (BAD_REQUEST_PARAMETERS). Without a
validator nothing is checked, as on AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Where a required parameter is looked for: SAM's names (method.request.<location>.<name>) and OpenAPI's.
_LOCATIONS = {"header": "header", "querystring": "querystring", "query": "querystring", "path": "path"}


@dataclass(frozen=True)
class RequestCheck:
    """What API Gateway validates of one method's requests."""

    validate_body: bool = False
    validate_parameters: bool = False
    #: The body's JSON Schema (None: any JSON), as text (hashable, a frozen dataclass field).
    schema: str | None = None
    body_required: bool = False
    #: (location, name) of each required parameter: header, querystring or path.
    required: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        """Whether anything is validated."""
        return self.validate_body or self.validate_parameters


def from_sam(request_model: Any, request_parameters: Any, models: dict[str, Any]) -> RequestCheck | None:
    """The check of a SAM `Api` event's `RequestModel` and `RequestParameters` (None: no validator)."""
    if not isinstance(request_model, dict):
        return None
    validate_body, validate_parameters = (
        request_model.get("ValidateBody"),
        request_model.get("ValidateParameters"),
    )
    if validate_body is None and validate_parameters is None:
        return None
    model = models.get(str(request_model.get("Model")))
    required = []
    for parameter in request_parameters if isinstance(request_parameters, list) else []:
        name, settings = next(iter(parameter.items())) if isinstance(parameter, dict) else (parameter, {})
        location, _, wanted = str(name).removeprefix("method.request.").partition(".")
        if isinstance(settings, dict) and settings.get("Required") and location in _LOCATIONS:
            required.append((_LOCATIONS[location], wanted))
    return RequestCheck(
        validate_body=bool(validate_body),
        validate_parameters=bool(validate_parameters),
        schema=json.dumps(model) if model is not None else None,
        body_required=bool(request_model.get("Required")),
        required=tuple(required),
    )


def from_openapi(document: dict[str, Any], operation: dict[str, Any]) -> RequestCheck | None:
    """The check of one operation of an API's OpenAPI (or Swagger) body (None: no validator)."""
    validators = document.get("x-amazon-apigateway-request-validators") or {}
    name = operation.get(
        "x-amazon-apigateway-request-validator", document.get("x-amazon-apigateway-request-validator")
    )
    validator = validators.get(name) if isinstance(validators, dict) and name else None
    if not isinstance(validator, dict):
        return None
    required: list[tuple[str, str]] = []
    schema: Any = None
    body_required = False
    for parameter in operation.get("parameters") or []:
        if not isinstance(parameter, dict):
            continue
        if parameter.get("in") == "body":  # Swagger 2
            schema, body_required = parameter.get("schema"), bool(parameter.get("required"))
        elif parameter.get("required") and parameter.get("in") in _LOCATIONS:
            required.append((_LOCATIONS[str(parameter["in"])], str(parameter.get("name"))))
    body = operation.get("requestBody")
    if isinstance(body, dict):  # OpenAPI 3
        content = body.get("content") or {}
        media: Any = content.get("application/json") or next(iter(content.values()), {})
        schema, body_required = (media or {}).get("schema"), bool(body.get("required"))
    if schema is not None:
        schema = {
            **schema,
            "definitions": document.get("definitions") or {},
            "components": document.get("components") or {},
        }
    return RequestCheck(
        validate_body=bool(validator.get("validateRequestBody")),
        validate_parameters=bool(validator.get("validateRequestParameters")),
        schema=json.dumps(schema) if schema is not None else None,
        body_required=body_required,
        required=tuple(required),
    )


def problems(check: RequestCheck, event: dict[str, Any]) -> tuple[str, str] | None:
    """(gateway response type, message) of what the request fails, or None if it passes."""
    if check.validate_parameters:
        missing = [name for location, name in check.required if not _present(event, location, name)]
        if missing:
            return "BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{', '.join(missing)}]"
    if check.validate_body and not _valid_body(check, event):
        return "BAD_REQUEST_BODY", "Invalid request body"
    return None


def _present(event: dict[str, Any], location: str, name: str) -> bool:
    if location == "header":
        return any(k.lower() == name.lower() for k in event.get("headers") or {})
    if location == "querystring":
        return name in (event.get("queryStringParameters") or {})
    return name in (event.get("pathParameters") or {})


def _valid_body(check: RequestCheck, event: dict[str, Any]) -> bool:
    body = event.get("body")
    if not body:
        return not check.body_required
    text = body
    if event.get("isBase64Encoded"):
        import base64

        try:
            text = base64.b64decode(body).decode()
        except (ValueError, UnicodeDecodeError):
            return False
    try:
        document = json.loads(text)
    except ValueError:
        return False
    if check.schema is None:
        return True
    import jsonschema

    schema = json.loads(check.schema)
    try:
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)(schema)
        return bool(validator.is_valid(document))
    except jsonschema.exceptions.SchemaError:
        return False
