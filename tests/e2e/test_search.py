"""Search, filters and sorts over HTTP against the local server, with a few thousand records across
several owners: every order both ways against the same data sorted in Python, whole paginations
returning each match once, accents and case, bound cursors, and the backfill command."""

from __future__ import annotations

import random
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import ROOT, aws_client

pytestmark = pytest.mark.runs_for(75)

TABLE = "RecordsTable"
OWNERS = ["ann@example.com", "bo@example.com", "cy@example.com", "di@example.com"]
NAMES = ["Émile", "emile", "Zoë", "zoe", "Ærø", "Łukasz", "Ana María", "ANA", "bob", "Bob", "Çelik", "d'Arcy"]
WORDS = ["café", "Crème", "brûlée", "north", "SOUTH", "alpha", "beta", "gamma"]
TAGS = ["vip", "Nord", "süd", "lead", "cold"]
PER_OWNER = 700


def fold(text):
    """Case and accents away (an independent spelling of the rule the API documents)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _records():
    rng = random.Random(12)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for owner in OWNERS:
        for n in range(PER_OWNER):
            amount = rng.choice(
                [
                    None,
                    Decimal(rng.randint(-(10**6), 10**6)) / 100,
                    Decimal("-0.001"),
                    Decimal("12345678901234567890.5"),
                ]
            )
            stamp = (start + timedelta(seconds=rng.randint(0, 10**7))).isoformat(timespec="milliseconds")
            record = {
                "email": owner,
                "id": 1000 + n * 7 + OWNERS.index(owner),
                "name": f"{rng.choice(NAMES)} {rng.choice(WORDS)}",
                "notes": " ".join(rng.sample(WORDS, 2)) if rng.random() < 0.5 else None,
                "phone": f"+44 20 {rng.randint(1000, 9999)} {n:04d}" if rng.random() < 0.3 else None,
                "tags": rng.sample(TAGS, rng.randint(0, 3)),
                "amount": amount,
                "active": rng.random() < 0.7,
                "version": 1,
                "created_at": stamp.replace("+00:00", "Z"),
                "updated_at": stamp.replace("+00:00", "Z"),
            }
            records.append(record)
    return records


@pytest.fixture(scope="module")
def seeded(app_server):
    """The records, written at the local AWS endpoint through the app's own record-to-item mapping."""
    from serverless_crud import settings
    from serverless_crud.dal.repository import DynamoRecordRepository

    dynamodb = aws_client(app_server.aws, "dynamodb")
    repository = DynamoRecordRepository(dynamodb, settings.load({"TABLE_NAME": TABLE}))
    records = _records()
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": repository.item_of(r)}} for r in records[start : start + 25]]
        while batch:
            unprocessed = dynamodb.batch_write_item(RequestItems={TABLE: batch}).get("UnprocessedItems", {})
            batch = unprocessed.get(TABLE, [])
    return records


def _all_pages(server, **parameters):
    """Every item of a listing, page by page (limit 100), and the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        query = {**parameters, "limit": "100", **({"cursor": cursor} if cursor else {})}
        reply = server.request("GET", "/records?" + urlencode(query, doseq=True))
        assert reply.status == 200, reply.body
        page = reply.json()
        items.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 500


def _order(field):
    def key(r):
        if field == "id":
            return (r["id"], r["email"])
        if field == "name":
            return (fold(r["name"])[:100], r["id"], r["email"])
        if field == "updated_at":
            return (r["updated_at"], r["id"], r["email"])
        return (r["amount"] is None, r["amount"] or 0, r["id"], r["email"])

    return key


def _keys(records):
    return [(r["email"], int(r["id"])) for r in records]


@pytest.mark.parametrize("field", ["id", "name", "updated_at", "amount"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("owner", [OWNERS[1], None], ids=["one-owner", "all-owners"])
def test_each_sort_both_ways_pages_through_every_record_in_order(
    app_server, seeded, field, descending, owner
):
    expected = sorted(
        (r for r in seeded if owner in (None, r["email"])), key=_order(field), reverse=descending
    )
    parameters = {"sort": ("-" if descending else "") + field, **({"email": owner} if owner else {})}

    items, _ = _all_pages(app_server, **parameters)

    assert _keys(items) == _keys(expected)


@pytest.mark.parametrize(
    "parameters",
    [
        {"q": "EMILE"},
        {"q": "creme brulee"},
        {"q": "zoe north", "sort": "-name"},
        {"tag": ["SUD", "vip"]},
        {"tag": "nord", "active": "false", "sort": "amount"},
        {"q": "ana", "email": OWNERS[2], "sort": "-updated_at"},
        {"q": "20", "active": "true", "email": OWNERS[0]},
        {"active": "false", "email": OWNERS[3], "sort": "name"},
    ],
    ids=lambda p: urlencode(p, doseq=True),
)
def test_searches_return_every_match_exactly_once(app_server, seeded, parameters):
    words = fold(parameters.get("q", "")).split()
    tags = {
        fold(t)
        for t in (
            [parameters["tag"]] if isinstance(parameters.get("tag"), str) else parameters.get("tag", [])
        )
    }

    def matches(r):
        digits = "".join(c for c in (r["phone"] or "") if c.isdigit())
        text = fold(" ".join([r["name"], r["notes"] or "", r["phone"] or "", digits, *r["tags"]]))
        return (
            all(w in text for w in words)
            and tags <= {fold(t) for t in r["tags"]}
            and ("active" not in parameters or r["active"] == (parameters["active"] == "true"))
            and parameters.get("email") in (None, r["email"])
        )

    expected = [r for r in seeded if matches(r)]
    assert expected, "the data should hold matches"

    items, _ = _all_pages(app_server, **parameters)

    assert len(_keys(items)) == len(set(_keys(items)))
    if "sort" in parameters:
        field = parameters["sort"].lstrip("-")
        expected.sort(key=_order(field), reverse=parameters["sort"].startswith("-"))
        assert _keys(items) == _keys(expected)
    else:
        assert sorted(_keys(items)) == sorted(_keys(expected))


def test_a_search_that_matches_nothing_is_an_empty_page(app_server, seeded):
    reply = app_server.request("GET", "/records?q=nothing-like-this&email=bo%40example.com")
    assert reply.status == 200
    assert reply.json() == {"items": [], "next_cursor": None, "stopped_early": False}


def test_a_search_across_everything_stops_at_its_budget_and_says_so(app_server, seeded):
    first = app_server.request("GET", "/records?q=nothing-like-this&sort=name").json()
    # 2,800 records, 2,000 items evaluated per page at most: the page stops early, the cursor goes on.
    assert first["items"] == [] and first["stopped_early"] is True and first["next_cursor"]
    items, pages = _all_pages(app_server, q="nothing-like-this", sort="name")
    assert items == [] and pages > 1


def test_a_cursor_is_refused_with_another_query(app_server, seeded):
    first = app_server.request("GET", "/records?q=zoe&limit=5").json()
    assert first["next_cursor"]
    reply = app_server.request("GET", "/records?" + urlencode({"q": "bob", "cursor": first["next_cursor"]}))
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "cursor" in reply.json()["detail"]


def _backfill(server, table):
    """`serverless-crud backfill` against the server's AWS endpoint, as an operator runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "serverless_crud_cli",
            "backfill",
            "--table",
            table,
            "--endpoint-url",
            server.aws,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "PATH": "",
        },
    )


def test_backfill_puts_old_rows_into_the_sorted_listings(app_server, seeded):
    dynamodb = aws_client(app_server.aws, "dynamodb")
    old = {"email": {"S": "old@example.com"}, "id": {"N": "3"}, "name": {"S": "Ölaf the Old"}}
    dynamodb.put_item(TableName=TABLE, Item=old)
    before = app_server.request("GET", "/records?email=old%40example.com&sort=name").json()["items"]
    found, _ = _all_pages(app_server, q="olaf")
    assert before == [] and [r["name"] for r in found] == ["Ölaf the Old"]

    result = _backfill(app_server, TABLE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("backfill: 1 rows"), result.stdout
    after = app_server.request("GET", "/records?email=old%40example.com&sort=name").json()["items"]
    assert [r["name"] for r in after] == ["Ölaf the Old"]
    assert "_name" not in after[0]


def test_backfill_of_a_missing_table_is_one_sentence(app_server):
    result = _backfill(app_server, "Nope")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
