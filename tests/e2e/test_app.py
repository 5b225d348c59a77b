"""The app from template.yaml served locally: the records API and its data over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import quote


def test_crud_through_the_local_gateway(app_server):
    created = app_server.request(
        "POST", "/records", {"email": "Ann@Example.com", "name": " Ann ", "amount": 0.1}
    )
    assert created.status == 201, created.body
    record = created.json()
    assert record["email"] == "ann@example.com"
    assert record["amount"] == Decimal("0.1")
    path = f"/records/{quote(record['email'], safe='')}/{record['id']}"

    # The Location carries the stage, as it does on AWS; the local gateway serves it too.
    assert app_server.request("GET", created.headers["Location"]).json() == record
    got = app_server.request("GET", path)
    assert got.status == 200
    assert got.headers["ETag"] == '"1"'

    replaced = app_server.request("PUT", path, {"name": "Ann B"}, headers={"If-Match": '"1"'})
    assert replaced.status == 200, replaced.body
    assert replaced.json()["version"] == 2
    stale = app_server.request("PATCH", path, {"phone": "1"}, headers={"If-Match": '"1"'})
    assert stale.status == 412

    listed = app_server.request("GET", "/records?email=ann%40example.com")
    assert [item["id"] for item in listed.json()["items"]] == [record["id"]]

    assert app_server.request("DELETE", path).status == 204
    assert app_server.request("GET", path).status == 404


def test_the_handlers_own_errors_pass_through(app_server):
    reply = app_server.request("POST", "/records", b"{not json", headers={"Content-Type": "application/json"})

    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"


def test_concurrent_creates_are_all_answered_and_none_overwrites_another(app_server):
    def create(number):
        return app_server.request("POST", "/records", {"email": "many@example.com", "name": f"n{number}"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(create, range(48)))

    assert [r.status for r in replies] == [201] * 48
    ids = {r.json()["id"] for r in replies}
    assert len(ids) == 48
    listed = app_server.request("GET", "/records?email=many%40example.com&limit=100").json()["items"]
    assert {item["id"] for item in listed} == ids
