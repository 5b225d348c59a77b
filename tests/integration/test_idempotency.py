"""POST /records with an Idempotency-Key, through API Gateway events against moto."""

from __future__ import annotations

import pytest

BODY = {"email": "idem@example.com", "name": "Once"}


def _post(api, body, key):
    return api.post("/records", body, headers={"Idempotency-Key": key})


def test_a_repeat_replays_the_same_status_headers_and_body(api):
    first = _post(api, BODY, "k-1")
    again = _post(api, BODY, "k-1")

    assert first.status == again.status == 201
    assert again.body == first.body
    for name in ("ETag", "Location", "Content-Type"):
        assert again.headers[name] == first.headers[name]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    listed = api.get("/records", query={"email": BODY["email"]}).json()["items"]
    assert len(listed) == 1


def test_another_key_or_no_key_creates_another_record(api):
    assert _post(api, BODY, "k-a").json()["id"] != _post(api, BODY, "k-b").json()["id"]
    assert api.post("/records", BODY).json()["id"] != api.post("/records", BODY).json()["id"]
    assert len(api.get("/records", query={"email": BODY["email"]}).json()["items"]) == 4


def test_the_same_key_with_another_body_is_422(api):
    assert _post(api, BODY, "k-2").status == 201
    reply = _post(api, {**BODY, "name": "Twice"}, "k-2")
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in reply.json()["detail"]


def test_a_failed_request_is_not_kept(api):
    assert _post(api, {"email": "bad"}, "k-3").status == 422
    # The same key may be used again once the body is fixed: nothing was kept for it.
    assert _post(api, {"email": "bad"}, "k-3").status == 422


@pytest.mark.parametrize("key", ["", "x" * 256, "é", "a b"])
def test_a_malformed_key_is_400(api, key):
    reply = _post(api, BODY, key)
    assert reply.status == 400
    assert "Idempotency-Key" in reply.json()["detail"]


def test_the_response_is_kept_24_hours(api, aws):
    import os
    import time

    assert _post(api, BODY, "kept").status == 201
    (item,) = aws.scan(TableName=os.environ["IDEMPOTENCY_TABLE"])["Items"]
    assert item["status"] == {"S": "COMPLETED"}
    assert abs(int(item["expiration"]["N"]) - (time.time() + 24 * 3600)) < 600
