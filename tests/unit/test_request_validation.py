"""API Gateway's request validators, as read from SAM properties and from an OpenAPI body."""

from __future__ import annotations

import base64
import json
from typing import Any

from serverless_local.services.apigateway.request_validation import from_openapi, from_sam, problems

MODELS = {
    "Thing": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "maxLength": 5}},
    }
}


def event(body: str | None = None, **parts: Any) -> dict[str, Any]:
    return {"body": body, "headers": {}, "queryStringParameters": None, "pathParameters": None, **parts}


def test_without_validate_flags_there_is_no_validator():
    assert from_sam({"Model": "Thing", "Required": True}, None, MODELS) is None
    assert from_sam(None, ["method.request.querystring.q"], MODELS) is None


def test_a_sam_model_validates_the_body():
    check = from_sam({"Model": "Thing", "Required": True, "ValidateBody": True}, None, MODELS)
    assert check is not None

    assert problems(check, event('{"name": "ann"}')) is None
    assert problems(check, event('{"name": "too long"}')) == ("BAD_REQUEST_BODY", "Invalid request body")
    assert problems(check, event("[1, 2]")) == ("BAD_REQUEST_BODY", "Invalid request body")
    assert problems(check, event(None)) == ("BAD_REQUEST_BODY", "Invalid request body")  # Required
    encoded = base64.b64encode(b'{"name": "bo"}').decode()
    assert problems(check, event(encoded, isBase64Encoded=True)) is None


def test_sam_request_parameters_are_checked_when_parameters_are_validated():
    check = from_sam(
        {"Model": "Thing", "ValidateParameters": True},
        [
            {"method.request.header.X-Key": {"Required": True}},
            {"method.request.querystring.page": {"Required": False}},
        ],
        MODELS,
    )
    assert check is not None

    assert problems(check, event(headers={"x-key": "1"})) is None
    assert problems(check, event()) == (
        "BAD_REQUEST_PARAMETERS",
        "Missing required request parameters: [X-Key]",
    )


def test_an_openapi_operations_validator_its_parameters_and_schema_references():
    document = {
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True}
        },
        "x-amazon-apigateway-request-validator": "all",
        "components": {
            "schemas": {
                "Part": {"type": "object", "properties": {"sku": {"$ref": "#/components/schemas/Sku"}}},
                "Sku": {"type": "string", "pattern": "^[A-Z]+$"},
            }
        },
    }
    operation = {
        "parameters": [
            {"name": "id", "in": "path", "required": True},
            {"name": "q", "in": "query", "required": True},
        ],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Part"}}}},
    }
    check = from_openapi(document, operation)
    assert check is not None

    good = event(json.dumps({"sku": "ABC"}), pathParameters={"id": "1"}, queryStringParameters={"q": "x"})
    assert problems(check, good) is None
    assert problems(check, {**good, "body": json.dumps({"sku": "abc"})}) == (
        "BAD_REQUEST_BODY",
        "Invalid request body",
    )
    assert (
        problems(check, {**good, "queryStringParameters": None})[1]
        == "Missing required request parameters: [q]"
    )  # type: ignore[index]
    assert from_openapi({}, operation) is None  # no validator named anywhere
