"""GET /records' search, filter and sort parameters, through API Gateway events: what is accepted,
what is refused (400 naming the parameter, nothing read), and rows without derived attributes."""

from __future__ import annotations

import pytest

from tests.support.events import record_path


def _names(reply):
    assert reply.status == 200, reply.body
    return [r["name"] for r in reply.json()["items"]]


@pytest.fixture
def people(api):
    rows = [
        ("a@example.com", "Zoë Durand", ["VIP", "north"], True, 10.5, "café au lait"),
        ("a@example.com", "émile", ["north"], False, -2, None),
        ("a@example.com", "Bob", [], True, None, None),
        ("b@example.com", "Zoe Other", ["vip"], True, 0, None),
    ]
    for email, name, tags, active, amount, notes in rows:
        body = {"email": email, "name": name, "tags": tags, "active": active, "notes": notes}
        if amount is not None:
            body["amount"] = amount
        if name == "Bob":
            body["phone"] = "+1 (555) 010-9999"
        assert api.post("/records", body).status == 201


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"colour": "red"}, "colour"),
        ({"sort": "size"}, "sort"),
        ({"sort": "--name"}, "sort"),
        ({"active": "yes"}, "active"),
        ({"limit": "0"}, "limit"),
        ({"tag": ""}, "tag"),
        ({"tag": "x" * 51}, "tag"),
        ({"q": "x" * 201}, "q"),
        ({"sort": ["name", "id"]}, "sort"),
        ({"cursor": "forged"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(api, query, parameter):
    reply = api.get("/records", query=query)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert parameter in reply.json()["detail"]


def test_words_are_anded_case_and_accent_insensitive(api, people):
    assert sorted(_names(api.get("/records", query={"q": "ZOE"}))) == ["Zoe Other", "Zoë Durand"]
    assert _names(api.get("/records", query={"q": "zoe durand"})) == ["Zoë Durand"]
    assert _names(api.get("/records", query={"q": "CAFE"})) == ["Zoë Durand"]
    assert _names(api.get("/records", query={"q": "emile"})) == ["émile"]
    assert _names(api.get("/records", query={"q": "5550109999"})) == ["Bob"]
    assert _names(api.get("/records", query={"q": "nobody"})) == []


def test_tags_are_all_required_and_active_filters(api, people):
    assert sorted(_names(api.get("/records", query={"tag": "vip"}))) == ["Zoe Other", "Zoë Durand"]
    assert _names(api.get("/records", query={"tag": ["VIP", "north"]})) == ["Zoë Durand"]
    assert _names(api.get("/records", query={"active": "false"})) == ["émile"]
    query = {"email": "a@example.com", "active": "true", "sort": "name"}
    assert _names(api.get("/records", query=query)) == ["Bob", "Zoë Durand"]


def test_sorts_within_an_owner_and_across_owners(api, people):
    owner = {"email": "a@example.com"}
    assert _names(api.get("/records", query={**owner, "sort": "name"})) == ["Bob", "émile", "Zoë Durand"]
    # No amount sorts after every amount, so first when descending (one index order, reversed).
    assert _names(api.get("/records", query={**owner, "sort": "-amount"})) == ["Bob", "Zoë Durand", "émile"]
    everyone = _names(api.get("/records", query={"sort": "amount"}))
    assert everyone == ["émile", "Zoe Other", "Zoë Durand", "Bob"]  # no amount sorts last


def test_no_derived_attribute_reaches_a_response(api, people):
    for record in api.get("/records").json()["items"]:
        assert not [k for k in record if k.startswith("_")]
        single = api.get(record_path(record["email"], record["id"])).json()
        assert not [k for k in single if k.startswith("_")]


def test_a_cursor_is_bound_to_its_query(api, people):
    first = api.get("/records", query={"sort": "name", "limit": "1"}).json()
    assert first["next_cursor"]
    same = api.get("/records", query={"sort": "name", "limit": "2", "cursor": first["next_cursor"]})
    assert same.status == 200
    for other in ({"sort": "-name"}, {"sort": "name", "q": "zoe"}, {"sort": "name", "active": "true"}):
        reply = api.get("/records", query={**other, "cursor": first["next_cursor"]})
        assert reply.status == 400, other
        assert "cursor" in reply.json()["detail"]


def test_rows_without_derived_attributes_are_found_by_search(api, aws, table):
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    aws.put_item(
        TableName=table["TableName"],
        Item={
            keys["HASH"]: {"S": "old@example.com"},
            keys["RANGE"]: {"N": "7"},
            "name": {"S": "Ünder Old"},
            "tags": {"L": [{"S": "Legacy"}]},
        },
    )
    assert _names(api.get("/records", query={"q": "under"})) == ["Ünder Old"]
    assert _names(api.get("/records", query={"email": "old@example.com", "tag": "legacy"})) == ["Ünder Old"]
    assert _names(api.get("/records", query={"q": "other"})) == []


def test_a_table_without_the_indexes_refuses_the_sorts_it_cannot_serve(api, monkeypatch, people):
    from serverless_crud import settings

    monkeypatch.setenv("SEARCH_INDEXES", "false")
    settings.reset()
    for query in ({"sort": "name"}, {"email": "a@example.com", "sort": "-updated_at"}, {"sort": "id"}):
        reply = api.get("/records", query=query)
        assert reply.status == 400
        assert "sort" in reply.json()["detail"]
    assert _names(api.get("/records", query={"email": "a@example.com", "sort": "-id"}))
    assert len(_names(api.get("/records", query={"q": "zoe"}))) == 2


def test_a_record_written_without_its_empty_fields_gets_every_derived_attribute(table):
    from serverless_crud import settings
    from serverless_crud.wiring import record_repository

    repository = record_repository(settings.current())
    item = repository.item_of({"email": "bulk@example.com", "id": 1, "name": "Só Name", "updated_at": "x"})

    assert {"_text", "_tags", "_name", "_updated", "_amount", "_shard"} <= set(item)
    assert item["_text"] == {"S": "so name"}
