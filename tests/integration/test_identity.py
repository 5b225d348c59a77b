"""Sign-in and per-owner access in the function (AUTH_MODE=cognito), driven with the events API
Gateway's Cognito authorizer sends: claims in `requestContext.authorizer.claims`, every value a string.

The cross-owner matrix: two users and an admin against every route. Another owner's record is 404
(existence is not revealed), asking for another owner's partition is 403, and nothing a refused
request names is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import reset_function_state
from tests.support.client import HandlerClient, Reply
from tests.support.events import cognito_claims, record_path

ALICE, BOB, ADMIN = "alice@example.com", "bob@example.com", "root@example.com"
Users = Callable[..., HandlerClient]


@pytest.fixture
def users(table: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Users:
    """`users(email, groups=None)`: a client whose requests carry that user's claims."""
    monkeypatch.setenv("AUTH_MODE", "cognito")
    reset_function_state()

    def client(email: str, groups: str | None = None, **claims: Any) -> HandlerClient:
        return HandlerClient(claims=cognito_claims(email, groups=groups, **claims))

    return client


@pytest.fixture
def world(users: Users) -> dict[str, Any]:
    """Alice and Bob with one record each, and an admin."""
    alice, bob, admin = users(ALICE), users(BOB), users(ADMIN, groups="admin")
    a = alice.post("/records", {"email": ALICE, "name": "Alice's"})
    b = bob.post("/records", {"email": BOB, "name": "Bob's"})
    assert (a.status, b.status) == (201, 201)
    return {"alice": alice, "bob": bob, "admin": admin, "a": a.json(), "b": b.json()}


def _problem(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json()["status"] == status


#: Every route that names one record, with a body where it takes one.
ITEM_ROUTES: list[tuple[str, Callable[[HandlerClient, str], Reply]]] = [
    ("GET", lambda c, p: c.get(p)),
    ("PUT", lambda c, p: c.put(p, {"name": "changed"})),
    ("PATCH", lambda c, p: c.patch(p, {"name": "changed"})),
    ("DELETE", lambda c, p: c.delete(p)),
]


@pytest.mark.parametrize(("method", "send"), ITEM_ROUTES, ids=[m for m, _ in ITEM_ROUTES])
def test_another_owners_record_is_not_found_and_stays_as_it_was(
    world: dict[str, Any], method: str, send: Callable[[HandlerClient, str], Reply]
) -> None:
    b = world["b"]
    for spelling in (BOB, BOB.upper()):
        _problem(send(world["alice"], record_path(spelling, b["id"])), 404)
    # The same as a record that does not exist at all.
    absent = send(world["alice"], record_path(BOB, b["id"] + 1))
    assert absent.json()["detail"] == send(world["alice"], record_path(BOB, b["id"])).json()["detail"]
    assert world["bob"].get(record_path(BOB, b["id"])).json() == b


@pytest.mark.parametrize(("method", "send"), ITEM_ROUTES, ids=[m for m, _ in ITEM_ROUTES])
def test_owners_and_admins_reach_the_record(
    world: dict[str, Any], method: str, send: Callable[[HandlerClient, str], Reply]
) -> None:
    for who, record in (("bob", world["b"]), ("admin", world["b"]), ("alice", world["a"])):
        reply = send(world[who], record_path(record["email"], record["id"]))
        assert reply.status in (200, 204), (who, reply.body)
        if method == "DELETE":
            world[who].post("/records", {**{k: record[k] for k in ("email", "id", "name")}})


def test_a_user_creates_only_under_their_own_email(world: dict[str, Any]) -> None:
    refused = world["alice"].post("/records", {"email": BOB, "name": "planted"})
    _problem(refused, 403)
    assert [r["name"] for r in world["bob"].get("/records").json()["items"]] == ["Bob's"]
    assert world["alice"].post("/records", {"email": "ALICE@example.com", "name": "mine"}).status == 201
    assert world["admin"].post("/records", {"email": BOB, "name": "from the admin"}).status == 201


def test_a_listing_without_email_is_the_callers_own_partition(world: dict[str, Any]) -> None:
    assert [r["email"] for r in world["alice"].get("/records").json()["items"]] == [ALICE]
    assert [r["email"] for r in world["bob"].get("/records").json()["items"]] == [BOB]
    assert world["alice"].get("/records", query={"email": ALICE}).json()["items"] == [world["a"]]


def test_a_listing_of_another_partition_is_forbidden(world: dict[str, Any]) -> None:
    _problem(world["alice"].get("/records", query={"email": BOB}), 403)
    _problem(world["alice"].get("/records", query={"email": "nobody@example.com"}), 403)


def test_the_admin_lists_everything_or_any_partition(world: dict[str, Any]) -> None:
    everything = world["admin"].get("/records").json()["items"]
    assert sorted(r["email"] for r in everything) == [ALICE, BOB]
    assert world["admin"].get("/records", query={"email": BOB}).json()["items"] == [world["b"]]


def test_an_own_listing_is_a_query_never_a_scan(world: dict[str, Any]) -> None:
    from serverless_crud.dal.clients import client

    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb", count)
    try:
        world["alice"].get("/records")
    finally:
        events.unregister("before-call.dynamodb", count)
    assert set(calls) == {"Query"}


def test_records_say_who_created_and_who_changed_them(world: dict[str, Any]) -> None:
    a = world["a"]
    alice_sub = world["alice"].claims["sub"]
    assert (a["created_by"], a["updated_by"]) == (alice_sub, alice_sub)
    patched = world["admin"].patch(record_path(ALICE, a["id"]), {"notes": "checked"}).json()
    assert (patched["created_by"], patched["updated_by"]) == (alice_sub, world["admin"].claims["sub"])
    # Server-managed: a client cannot set them.
    for field in ("created_by", "created_by_email", "updated_by_email"):
        refused = world["alice"].put(record_path(ALICE, a["id"]), {"name": "x", field: "someone"})
        _problem(refused, 422)
        assert refused.json()["errors"] == [{"field": field, "message": "is managed by the server"}]


def test_records_keep_the_emails_of_who_created_and_who_changed_them(world: dict[str, Any]) -> None:
    created = world["alice"].post("/records", {"email": ALICE, "name": "by email"}).json()
    assert (created["created_by_email"], created["updated_by_email"]) == (ALICE, ALICE)
    path = record_path(ALICE, created["id"])
    replaced = world["admin"].put(path, {"name": "replaced"}).json()
    assert (replaced["created_by_email"], replaced["updated_by_email"]) == (ALICE, ADMIN)
    patched = world["alice"].patch(path, {"notes": "again"}).json()
    assert (patched["created_by_email"], patched["updated_by_email"]) == (ALICE, ALICE)
    assert patched["updated_by"] == world["alice"].claims["sub"]


@pytest.mark.parametrize(
    ("groups", "admin"),
    [
        ("admin", True),
        ("[admin editors]", True),
        ("editors,admin", True),
        ('["editors", "admin"]', True),
        ("[editors]", False),
        ("administrators", False),
        ("", False),
        (None, False),
    ],
)
def test_groups_are_read_in_every_shape_the_claim_arrives_in(
    world: dict[str, Any], users: Users, groups: str | None, admin: bool
) -> None:
    carol = users("carol@example.com", groups=groups)
    assert (carol.get(record_path(BOB, world["b"]["id"])).status == 200) is admin


def _all_routes(client: HandlerClient, record: dict[str, Any]) -> list[Reply]:
    path = record_path(record["email"], record["id"])
    return [
        client.get("/records"),
        client.post("/records", {"email": record["email"], "name": "x"}),
        *(send(client, path) for _, send in ITEM_ROUTES),
    ]


def test_without_the_authorizers_claims_every_route_is_401(world: dict[str, Any]) -> None:
    """Defence in depth: the function never trusts a request the authorizer did not vouch for."""
    anonymous = HandlerClient()
    for reply in _all_routes(anonymous, world["a"]):
        _problem(reply, 401)
        assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert world["alice"].get(record_path(ALICE, world["a"]["id"])).json() == world["a"]


@pytest.mark.parametrize(
    "changed",
    [
        {"email_verified": "false"},
        {"email_verified": None},
        {"email": None},
        {"email": ""},
        {"sub": None},
        {"token_use": "access"},
    ],
    ids=["unverified", "no-verified-claim", "no-email", "empty-email", "no-sub", "access-token"],
)
def test_claims_without_a_verified_identity_are_401(world: dict[str, Any], changed: dict[str, Any]) -> None:
    claims = {**world["alice"].claims, **changed}
    client = HandlerClient(claims={k: v for k, v in claims.items() if v is not None})
    for reply in _all_routes(client, world["a"]):
        _problem(reply, 401)


def test_the_public_pages_need_no_sign_in(users: Users) -> None:
    anonymous = HandlerClient()
    for path in ("/health", "/openapi.json", "/"):
        assert anonymous.get(path).status == 200, path


def test_the_open_mode_keeps_no_owner(api: HandlerClient) -> None:
    created = api.post("/records", {"email": ALICE, "name": "open"}).json()
    assert (created["created_by"], created["updated_by"]) == (None, None)
    assert (created["created_by_email"], created["updated_by_email"]) == (None, None)
    assert api.get(record_path(ALICE, created["id"])).status == 200


def test_the_api_document_says_the_signed_in_routes_need_a_token(users: Users) -> None:
    from serverless_crud.api.app import declared

    document = HandlerClient().get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["cognito"]["name"] == "Authorization"
    signed_in = {(r.path, r.method.lower()) for r in declared() if r.access == "signed-in"}
    assert {path for path, _ in signed_in} >= {"/records", "/records/{email}/{id}", "/imports", "/jobs/{id}"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            guarded = (path, method) in signed_in
            assert (operation.get("security") == [{"cognito": []}]) is guarded, (path, method)
            assert ("401" in operation["responses"]) is guarded


def test_the_ui_reads_its_sign_in_configuration_from_the_function(
    users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_Abc123456")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", "client0000000000000000000a")
    reset_function_state()
    config = HandlerClient().get("/config.json")
    assert config.status == 200
    assert config.json() == {
        "auth_mode": "cognito",
        "user_pool_id": "us-east-1_Abc123456",
        "client_id": "client0000000000000000000a",
        "cognito_endpoint": "https://cognito-idp.us-east-1.amazonaws.com/",
        "max_body_bytes": 65536,
        "max_import_bytes": 1073741824,
    }
    # The pages may call Cognito, and nothing else beyond their own origin.
    policy = HandlerClient().get("/signin.html").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://cognito-idp.us-east-1.amazonaws.com;" in policy
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3001")
    reset_function_state()
    assert HandlerClient().get("/config.json").json()["cognito_endpoint"] == "http://127.0.0.1:3001"


def test_the_open_mode_tells_the_ui_there_is_no_sign_in(api: HandlerClient) -> None:
    assert api.get("/config.json").json() == {
        "auth_mode": "none",
        "user_pool_id": "",
        "client_id": "",
        "cognito_endpoint": "",
        "max_body_bytes": 65536,
        "max_import_bytes": 1073741824,
    }
    assert "connect-src 'self';" in api.get("/").headers["Content-Security-Policy"]
