"""Regression tests of issue 8's defects, through the handler with API Gateway events against moto."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from serverless_crud.models.values import NOT_BLANK
from tests.conftest import ROOT, reset_function_state
from tests.support.events import record_path, rest_event

MERGE = {"Content-Type": "application/merge-patch+json"}
#: Sentences of Python and of libraries that must never reach a client.
INTERNAL = (
    "sys.set_int_max_str_digits",
    "recursion",
    "Input should",
    "String should",
    "Value error",
    "pydantic",
)


def create(api, **fields):
    reply = api.post("/records", {"email": "h@example.com", "name": "Hardening", **fields})
    assert reply.status == 201, reply.body
    return reply.json()


def post_text(api, text):
    return api.post("/records", text, headers={"Content-Type": "application/json"})


def read(api, record):
    return api.get(record_path(record["email"], record["id"]))


def assert_plain(reply):
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert not any(phrase in reply.body for phrase in INTERNAL), reply.body


# -- 1. PATCH obeys PUT's rules -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("patch", "field"),
    [({"name": ""}, "name"), ({"name": "x" * 500}, "name"), ({"tags": [f"t{n}" for n in range(23)]}, "tags")],
)
def test_patch_is_held_to_the_rules_of_put(api, patch, field):
    record = create(api)
    reply = api.patch(record_path(record["email"], record["id"]), patch)
    assert reply.status == 422 and [e["field"] for e in reply.json()["errors"]] == [field]
    assert read(api, record).json() == record


def test_patch_trims_like_put(api):
    record = create(api)
    reply = api.patch(record_path(record["email"], record["id"]), {"name": "  Trimmed  ", "tags": [" a "]})
    assert reply.status == 200 and reply.json()["name"] == "Trimmed" and reply.json()["tags"] == ["a"]


# -- 2. bodies that are not UTF-8 ------------------------------------------------------------------
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_bytes_that_are_not_utf8_are_400(api, method):
    record = create(api)
    path = "/records" if method == "POST" else record_path(record["email"], record["id"])
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    reply = api.request(method, path, body=b'{"name":"\xff"}', headers={"Content-Type": content_type})
    assert reply.status == 400 and "UTF-8" in reply.json()["detail"]
    assert_plain(reply)
    assert read(api, record).json() == record


def test_bytes_that_are_not_utf8_with_a_wrong_content_type_are_415_not_500(api):
    # The type is refused before the bytes are read: 415 says what to change first.
    reply = api.request("POST", "/records", body=b'{"name":"\xff"}', headers={"Content-Type": "text/plain"})
    assert reply.status == 415
    assert_plain(reply)


# -- 3. numbers: plain ASCII integers in range, never a 500 ----------------------------------------
@pytest.mark.parametrize("limit", ["9" * 5000, "٣", "1e2", " 5", "05x"])
def test_limit_that_is_not_a_plain_integer_is_400(api, limit):
    reply = api.get("/records", query={"limit": limit})
    assert reply.status == 400 and "limit" in reply.json()["detail"]
    assert_plain(reply)


@pytest.mark.parametrize("record_id", ["9" * 5000, "٣", "1.0", "-1", "0x10"])
def test_an_id_in_the_path_that_is_not_a_plain_integer_is_400(api, record_id):
    reply = api.get(f"/records/a%40example.com/{record_id}")
    assert reply.status == 400
    assert_plain(reply)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"email":"n@example.com","name":"N","id":' + "9" * 5000 + "}", "id"),
        ('{"email":"n@example.com","name":"N","id":1.0}', "id"),
        ('{"email":"n@example.com","name":"N","id":1e3}', "id"),
        ('{"email":"n@example.com","name":"N","amount":' + "9" * 5000 + "}", "amount"),
        ('{"email":"n@example.com","name":"N","amount":1e999999}', "amount"),
    ],
)
def test_numbers_in_the_body_out_of_range_are_422(api, text, field):
    reply = post_text(api, text)
    assert reply.status == 422 and [e["field"] for e in reply.json()["errors"]] == [field]
    assert_plain(reply)


def test_an_if_match_with_a_huge_number_never_matches(api):
    record = create(api)
    reply = api.put(
        record_path(record["email"], record["id"]), {"name": "X"}, headers={"If-Match": f'"{"9" * 5000}"'}
    )
    assert reply.status == 412


# -- 4. If-None-Match: * on writes -------------------------------------------------------------------
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_if_none_match_star_on_a_write_is_412_when_the_record_exists(api, method):
    record = create(api)
    path = record_path(record["email"], record["id"])
    body = None if method == "DELETE" else json.dumps({"name": "Overwritten"})
    headers = {"If-None-Match": "*", **(MERGE if method == "PATCH" else {"Content-Type": "application/json"})}
    reply = api.request(method, path, body=body, headers=headers)
    assert reply.status == 412 and reply.headers["ETag"] == '"1"'
    assert read(api, record).json() == record
    absent = api.request(method, record_path("nobody@example.com", 1), body=body, headers=headers)
    assert absent.status == 404


def test_if_none_match_with_the_current_etag_is_412_and_another_passes(api):
    record = create(api)
    path = record_path(record["email"], record["id"])
    assert api.put(path, {"name": "X"}, headers={"If-None-Match": '"1"'}).status == 412
    assert api.put(path, {"name": "X"}, headers={"If-None-Match": '"7"'}).status == 200


# -- 5. rows written by other tools ------------------------------------------------------------------
@pytest.fixture
def put_row(aws, table):
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}

    def put(email: str, record_id: int | str, **attributes):
        item = {keys["HASH"]: {"S": email}, keys["RANGE"]: {"N": str(record_id)}, **attributes}
        aws.put_item(TableName=table["TableName"], Item=item)

    return put


def test_a_minimal_row_is_readable_editable_and_deletable(api, put_row):
    put_row("min@example.com", 8, name={"S": "Minimal"})
    path = record_path("min@example.com", 8)
    reply = api.get(path)
    assert reply.status == 200 and reply.headers["ETag"] == '"1"'
    assert reply.json() == {
        "email": "min@example.com",
        "id": 8,
        "name": "Minimal",
        "phone": None,
        "notes": None,
        "tags": [],
        "amount": None,
        "active": True,
        "version": 1,
        "created_at": None,
        "updated_at": None,
        "created_by": None,
        "updated_by": None,
        "created_by_email": None,
        "updated_by_email": None,
    }
    patched = api.patch(path, {"notes": "seen"}, headers={"If-Match": '"1"'})
    assert patched.status == 200 and patched.json()["version"] == 2 and patched.json()["updated_at"]
    put_row("min@example.com", 9, name={"S": "Other"})
    replaced = api.put(record_path("min@example.com", 9), {"name": "Put"}, headers={"If-Match": '"1"'})
    assert replaced.status == 200 and replaced.json()["version"] == 2
    assert api.delete(path, headers={"If-Match": '"2"'}).status == 204


def test_a_row_whose_email_is_not_lower_case_opens_by_its_listed_key(api, put_row):
    put_row("Min@Example.com", 8, name={"S": "Mixed"})
    listed = api.get("/records").json()["items"]
    assert [r["email"] for r in listed] == ["Min@Example.com"]
    path = record_path(listed[0]["email"], listed[0]["id"])
    assert api.get(path).status == 200
    assert api.patch(path, {"notes": "x"}).status == 200
    assert api.delete(path).status == 204


def test_a_row_with_odd_types_is_a_clear_409_and_can_be_deleted(api, put_row):
    put_row("odd@example.com", 3, name={"S": "Odd"}, version={"S": "3"})
    path = record_path("odd@example.com", 3)
    for reply in (
        api.get(path),
        api.patch(path, {"notes": "x"}),
        api.put(path, {"name": "New"}),
        api.delete(path, headers={"If-Match": '"3"'}),
    ):
        assert reply.status == 409, reply.body
        assert [e["field"] for e in reply.json()["errors"]] == ["version"]
        assert_plain(reply)
    assert api.get("/records").json()["items"] == []  # never served raw
    assert api.delete(path).status == 204


def test_odd_client_fields_are_replaced_by_put_and_named_by_patch(api, put_row):
    put_row("odd@example.com", 4, name={"N": "5"}, tags={"S": "a,b"})
    path = record_path("odd@example.com", 4)
    reply = api.get(path)
    assert reply.status == 409 and {e["field"] for e in reply.json()["errors"]} == {"name", "tags"}
    patch = api.patch(path, {"name": "Fixed"})
    assert patch.status == 409 and [e["field"] for e in patch.json()["errors"]] == ["tags"]
    assert api.patch(path, {"name": "Fixed", "tags": ["a", "b"]}).status == 200
    assert api.get(path).json()["tags"] == ["a", "b"]


def test_unknown_attributes_are_kept_but_not_shown(api, aws, table, put_row):
    put_row("x@example.com", 5, name={"S": "X"}, legacy={"SS": ["a"]})
    assert "legacy" not in api.get(record_path("x@example.com", 5)).json()
    assert api.put(record_path("x@example.com", 5), {"name": "Y"}).status == 200
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    item = aws.get_item(
        TableName=table["TableName"], Key={keys["HASH"]: {"S": "x@example.com"}, keys["RANGE"]: {"N": "5"}}
    )["Item"]
    assert item["legacy"] == {"SS": ["a"]}


def test_a_row_whose_id_the_api_cannot_address_is_left_out_of_listings(api, put_row):
    put_row("k@example.com", "1.5", name={"S": "Fraction"})
    put_row("k@example.com", 2, name={"S": "Fine"})
    assert [r["id"] for r in api.get("/records", query={"email": "k@example.com"}).json()["items"]] == [2]


# -- 6. no Python or library sentences ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["[" * 10000, '{"a": 1, "a": 2}', '{"name": "x",}', "\ufeff{}", '{"email": "n@example.com", "name": 5}'],
)
def test_details_are_the_products_own_sentences(api, text):
    reply = post_text(api, text)
    assert reply.status in (400, 422)
    assert_plain(reply)


# -- 7. the OpenAPI document says what the server checks ---------------------------------------------
def test_openapi_states_the_limits_the_server_enforces(api):
    document = json.loads(api.get("/openapi.json").body)
    item = document["paths"]["/records/{email}/{id}"]
    id_schema = next(p["schema"] for p in item["parameters"] if p["name"] == "id")
    assert id_schema == {"type": "integer", "minimum": 1, "maximum": 2**53 - 1}
    schemas = document["components"]["schemas"]
    amount = schemas["RecordFields"]["properties"]["amount"]["anyOf"][0]
    assert amount["exclusiveMaximum"] == 1e126 and amount["exclusiveMinimum"] == -1e126
    patch = schemas["RecordPatch"]["properties"]
    assert patch["name"]["maxLength"] == 200 and patch["name"]["pattern"] == NOT_BLANK
    assert patch["tags"]["anyOf"][0]["maxItems"] == 20
    assert schemas["Problem"]["properties"]["type"]["examples"] == ["urn:serverless-crud:problem:not-found"]
    assert "https://example.com" not in json.dumps(document)


def test_the_openapi_document_is_served_without_pydantic():
    script = (
        "import sys\nfrom serverless_crud.handler import lambda_handler\n"
        "from tests.support.events import lambda_context, rest_event\n"
        "r = lambda_handler(rest_event('GET', '/openapi.json'), lambda_context())\n"
        "print(r['statusCode'], 'pydantic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.stdout.split()[-2:] == ["200", "False"], done.stderr[-2000:]


# -- 8. addresses ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("email", ["..@example.com", "a/b..c@example.com", "a@example.test", "a@b"])
def test_addresses_that_are_not_valid_are_422(api, email):
    reply = api.post("/records", {"email": email, "name": "N"})
    assert reply.status == 422 and reply.json()["errors"] == [
        {"field": "email", "message": "must be a valid email address"}
    ]


# -- 11. If-Match required by a setting -------------------------------------------------------------------
@pytest.fixture
def if_match_required(monkeypatch):
    monkeypatch.setenv("REQUIRE_IF_MATCH", "true")
    reset_function_state()
    yield
    monkeypatch.delenv("REQUIRE_IF_MATCH")
    reset_function_state()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", [None, "*", "", "garbage", '"1", x'])
def test_required_if_match_missing_is_428(api, if_match_required, method, if_match):
    record = create(api)
    path = record_path(record["email"], record["id"])
    content_type = MERGE if method == "PATCH" else {"Content-Type": "application/json"}
    headers = {**content_type, **({"If-Match": if_match} if if_match else {})}
    body = None if method == "DELETE" else json.dumps({"name": "Changed"})
    reply = api.request(method, path, body=body, headers=headers)
    assert reply.status == 428 and reply.json()["title"] == "Precondition Required"
    assert read(api, record).json() == record
    headers["If-Match"] = '"1"'
    assert api.request(method, path, body=body, headers=headers).status in (200, 204)


def test_required_if_match_is_in_the_openapi_document(api, if_match_required):
    document = json.loads(api.get("/openapi.json").body)
    put = document["paths"]["/records/{email}/{id}"]["put"]
    assert next(p for p in put["parameters"] if p["name"] == "If-Match")["required"] is True
    assert "428" in put["responses"]


def test_if_match_is_optional_by_default(api):
    record = create(api)
    assert api.put(record_path(record["email"], record["id"]), {"name": "Y"}).status == 200


# -- configuration: read once, validated at cold start --------------------------------------------------
@pytest.mark.parametrize(
    ("variable", "value", "sentence"),
    [
        ("MAX_BODY_BYTES", "abc", "MAX_BODY_BYTES must be a whole number of bytes from 1024 to 4000000"),
        ("REQUIRE_IF_MATCH", "yes", "REQUIRE_IF_MATCH must be true or false"),
        ("ALLOWED_ORIGINS", "app.example.com", "is not an origin"),
        ("TABLE_NAME", None, "TABLE_NAME is not set"),
    ],
)
def test_a_bad_setting_stops_the_cold_start_with_a_clear_sentence(variable, value, sentence):
    env = {**os.environ}
    if value is None:
        env.pop(variable, None)
    else:
        env[variable] = value
    done = subprocess.run(
        [sys.executable, "-c", "import serverless_crud.handler"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert f"ConfigurationError: invalid configuration: {''}" in done.stderr and sentence in done.stderr


def test_settings_reset_reconfigures_cors(api, monkeypatch):
    origin = "https://other.example.org"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    assert "Access-Control-Allow-Origin" not in api.request("OPTIONS", "/records", headers=preflight).headers
    monkeypatch.setenv("ALLOWED_ORIGINS", origin)
    reset_function_state()
    reply = api.request("OPTIONS", "/records", headers=preflight)
    assert reply.headers["Access-Control-Allow-Origin"] == origin


def test_a_base64_body_is_decoded_to_bytes_then_utf8(api):
    event = rest_event("POST", "/records", body={"email": "b@example.com", "name": "B64 ✓"})
    event["body"] = (
        base64.b64encode(event["body"].encode()).decode() if not event["isBase64Encoded"] else event["body"]
    )
    event["isBase64Encoded"] = True
    reply = api.send(event)
    assert reply.status == 201 and reply.json()["name"] == "B64 ✓"
