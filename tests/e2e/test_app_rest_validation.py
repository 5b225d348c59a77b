"""tests/apps/rest-validation: what API Gateway validates before a REST API's function runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, start_app

VEHICLE = {"make": "Volvo", "model": "EX30", "year": 2024, "color": "blue"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("rest-validation"), "rest-validation")
    yield server
    server.stop()


@pytest.mark.parametrize(
    "body",
    [
        {"make": "Volvo", "model": "EX30"},  # year missing
        {**VEHICLE, "year": 1999},  # under the minimum
        {**VEHICLE, "color": "purple"},  # not in the enum
        {**VEHICLE, "year": "2024"},  # a string, not an integer
        b"{not json",
        None,  # the model is Required
    ],
)
def test_a_body_the_model_refuses_is_400_invalid_request_body(app, body):
    reply = app.request("POST", "/vehicle", body=body, headers={"Content-Type": "application/json"})

    assert (reply.status, reply.json()) == (400, {"message": "Invalid request body"})
    assert reply.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert reply.headers["X-Validation"] == "body"  # the API's BAD_REQUEST_BODY gateway response


def test_a_body_the_model_accepts_reaches_the_function(app):
    reply = app.request("POST", "/vehicle", body=VEHICLE)

    assert reply.status == 200
    assert reply.json()["path"] == "/vehicle"


def test_missing_required_parameters_are_named(app):
    reply = app.request("GET", "/vehicles?page=2")

    assert reply.status == 400
    assert reply.json() == {"message": "Missing required request parameters: [make, x-fleet]"}
    assert app.request("GET", "/vehicles?make=volvo", headers={"X-Fleet": "a"}).status == 200


def test_a_method_without_a_validator_checks_nothing(app):
    assert app.request("POST", "/loose", body=b"anything at all").status == 200


def test_an_openapi_bodys_validators_check_its_schemas_and_parameters(app):
    assert app.request("POST", "/parts", body={"sku": "ABC-12", "price": 3.5}).status == 200
    for refused in ({"sku": "abc"}, {"sku": "ABC-1", "price": -1}, {"price": 1}):
        reply = app.request("POST", "/parts", body=refused)
        assert (reply.status, reply.json()) == (400, {"message": "Invalid request body"}), refused

    missing = app.request("GET", "/parts")
    assert (missing.status, missing.json()) == (
        400,
        {"message": "Missing required request parameters: [sku]"},
    )
    assert app.request("GET", "/parts?sku=ABC-1").status == 200
