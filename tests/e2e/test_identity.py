"""Sign-in over HTTP against `serverless-crud serve` (AuthMode=cognito, the default), with real ID
tokens of the embedded user pool: the cross-owner matrix, every bad token the Cognito authorizer
refuses, users that survive a restart, the open mode and the API key.
"""

from __future__ import annotations

import base64
import json
import stat
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import Reply, Server, aws_client, start_server

pytestmark = pytest.mark.runs_for(35)

PASSWORD = "Corr3ct-Horse-Battery!"
ALICE, BOB = "alice@example.com", "bob@example.com"
LOCAL_ADMIN = "admin@example.com"


def local(server: Server) -> dict[str, str]:
    """The endpoint and ids the server wrote for the CLI."""
    state = Path(server.args[server.args.index("--state-dir") + 1])
    return json.loads((state / "cognito-idp" / "local.json").read_text())  # type: ignore[no-any-return]


def state_dir(server: Server) -> Path:
    return Path(server.args[server.args.index("--state-dir") + 1])


def cognito(server: Server) -> Any:
    return aws_client(server.aws, "cognito-idp", "us-east-1")


def add_user(server: Server, email: str, *, verified: bool = True, groups: tuple[str, ...] = ()) -> None:
    pool = local(server)["user_pool_id"]
    attributes = [{"Name": "email", "Value": email}]
    if verified:
        attributes.append({"Name": "email_verified", "Value": "true"})
    client = cognito(server)
    client.admin_create_user(
        UserPoolId=pool, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS"
    )
    client.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    for group in groups:
        client.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)


def sign_in(server: Server, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    answer = cognito(server).initiate_auth(
        ClientId=local(server)["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
        **extra,
    )
    return answer["AuthenticationResult"]  # type: ignore[no-any-return]


def admin_password(server: Server) -> str:
    return (state_dir(server) / "cognito-idp" / "admin-password").read_text().strip()


def claims(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))  # type: ignore[no-any-return]


def path(email: str, record_id: int) -> str:
    return f"/records/{quote(email, safe='')}/{record_id}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as `make run` serves it: sign-in required."""
    running = start_server(tmp_path_factory.mktemp("signed-in"), signed_in=True)
    add_user(running, ALICE)
    add_user(running, BOB)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tokens(server: Server) -> dict[str, str]:
    return {
        "alice": sign_in(server, ALICE)["IdToken"],
        "bob": sign_in(server, BOB)["IdToken"],
        "admin": sign_in(server, LOCAL_ADMIN, admin_password(server))["IdToken"],
    }


def call(
    server: Server, who: str | None, tokens: dict[str, str], method: str, url: str, body: Any = None
) -> Reply:
    headers = {} if who is None else {"Authorization": tokens[who]}
    return server.request(method, url, body, headers)


# -- the cross-owner matrix ----------------------------------------------------------------------------
def test_every_route_follows_the_owner_rules(server: Server, tokens: dict[str, str]) -> None:
    def create(who: str, email: str) -> dict[str, Any]:
        reply = call(server, who, tokens, "POST", "/records", {"email": email, "name": f"{who}'s"})
        assert reply.status == 201, reply.body
        return reply.json()  # type: ignore[no-any-return]

    bobs = create("bob", BOB)
    assert bobs["created_by"] == claims(tokens["bob"])["sub"]
    outcomes: dict[tuple[str, str], int] = {}
    for who in ("alice", "bob", "admin"):
        record = create("bob", BOB)
        item = path(BOB, record["id"])
        for method, body in (
            ("GET", None),
            ("PUT", {"name": "n"}),
            ("PATCH", {"notes": "x"}),
            ("DELETE", None),
        ):
            outcomes[(who, method)] = call(server, who, tokens, method, item, body).status
        outcomes[(who, "POST")] = call(
            server, who, tokens, "POST", "/records", {"email": BOB, "name": "p"}
        ).status
        outcomes[(who, "LIST")] = call(server, who, tokens, "GET", f"/records?email={quote(BOB)}").status
    assert outcomes == {
        **{("alice", m): 404 for m in ("GET", "PUT", "PATCH", "DELETE")},
        ("alice", "POST"): 403,
        ("alice", "LIST"): 403,
        ("bob", "GET"): 200,
        ("bob", "PUT"): 200,
        ("bob", "PATCH"): 200,
        ("bob", "DELETE"): 204,
        ("bob", "POST"): 201,
        ("bob", "LIST"): 200,
        ("admin", "GET"): 200,
        ("admin", "PUT"): 200,
        ("admin", "PATCH"): 200,
        ("admin", "DELETE"): 204,
        ("admin", "POST"): 201,
        ("admin", "LIST"): 200,
    }
    # Alice's refused writes changed nothing of Bob's.
    assert call(server, "bob", tokens, "GET", path(BOB, bobs["id"])).json() == bobs
    own = call(server, "alice", tokens, "GET", "/records").json()["items"]
    assert all(r["email"] == ALICE for r in own)
    everything = call(server, "admin", tokens, "GET", "/records?limit=100").json()["items"]
    assert {r["email"] for r in everything} >= {BOB}


def test_a_bearer_token_is_accepted_as_the_raw_one(server: Server, tokens: dict[str, str]) -> None:
    reply = server.request("GET", "/records", headers={"Authorization": f"Bearer {tokens['alice']}"})
    assert reply.status == 200


def test_an_unverified_email_is_refused_by_the_function(server: Server) -> None:
    add_user(server, "carol@example.com", verified=False)
    token = sign_in(server, "carol@example.com")["IdToken"]
    reply = server.request("GET", "/records", headers={"Authorization": token})
    assert reply.status == 401
    assert reply.headers["Content-Type"] == "application/problem+json"


def test_the_public_pages_need_no_token(server: Server) -> None:
    for page in ("/", "/health", "/openapi.json", "/docs"):
        assert server.request("GET", page).status == 200, page
    preflight = server.request(
        "OPTIONS",
        "/records",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204


# -- what the authorizer refuses -----------------------------------------------------------------------
def _local_key(server: Server) -> Any:
    """The state directory's signing key (what only its owner can read)."""
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key((state_dir(server) / "cognito-idp" / "signing-key.pem").read_bytes())
    return RSAKey.import_key(key.as_dict(private=True), {"kid": key.thumbprint()})


def _moto_key() -> Any:
    """The key pair bundled with moto, whose private half anyone can download."""
    from joserfc.jwk import RSAKey
    from moto.utilities.utils import load_resource

    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def _forged(server: Server, key: Any = None, kid: str | None = None, **changes: Any) -> str:
    """An ID token of this pool signed with `key` (the pool's own by default), with `changes` to its
    claims: the tests below differ from a token the authorizer takes in one thing each."""
    from joserfc import jwt

    key = key or _local_key(server)
    ids = local(server)
    now = int(time.time())
    payload = {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{ids['user_pool_id']}",
        "sub": "00000000-0000-4000-8000-000000000000",
        "aud": ids["client_id"],
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 600,
        "email": "mallory@example.com",
        "email_verified": True,
        **changes,
    }
    return str(jwt.encode({"kid": kid or key.kid, "alg": "RS256"}, payload, key))


def claims_kid(token: str) -> str:
    return str(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"])


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _refused(server: Server, token: str | None) -> Reply:
    headers = {"Origin": "https://app.example.com"}
    if token is not None:
        headers["Authorization"] = token
    return server.request("GET", "/records", headers=headers)


def test_a_well_formed_token_of_this_pool_is_accepted(server: Server) -> None:
    """The forging helper makes tokens the authorizer takes: the cases below differ in one thing."""
    assert _refused(server, _forged(server)).status == 200


def test_tokens_are_signed_with_the_state_directorys_own_key_and_moto_s_is_refused(
    server: Server, tokens: dict[str, str]
) -> None:
    key = _local_key(server)
    header = json.loads(base64.urlsafe_b64decode(tokens["admin"].split(".")[0] + "=="))
    assert header == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    assert server.request("GET", "/records", headers={"Authorization": tokens["admin"]}).status == 200
    # The admin's token, re-signed with moto's bundled key: under its own key id, or under ours.
    for kid in ("dummy", key.kid):
        forged = _forged(server, _moto_key(), kid, **{"cognito:groups": ["admin"]})
        reply = _refused(server, forged)
        assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
    # The pool's JWKS URL serves the state directory's public key alone, as Cognito serves its keys.
    jwks_url = f"{server.aws}/{local(server)['user_pool_id']}/.well-known/jwks.json"
    with urllib.request.urlopen(jwks_url, timeout=30) as response:
        served = json.loads(response.read())
    public = key.as_dict(private=False)
    assert served == {
        "keys": [
            {"alg": "RS256", "e": public["e"], "kid": key.kid, "kty": "RSA", "n": public["n"], "use": "sig"}
        ]
    }


def test_the_signing_key_and_every_secret_are_the_owners_alone(server: Server) -> None:
    state = state_dir(server)
    secret = [
        state / "cognito-idp" / "signing-key.pem",
        state / "cognito-idp" / "admin-password",
        *sorted((state / "cognito-idp").glob("journal-*.log")),  # users' password hashes
    ]
    assert len(secret) >= 3
    for path in secret:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in state.rglob("*"):  # and nothing the runtime wrote is readable by another user
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "malformed",
        "not-base64",
        "wrong-signature",
        "forged-claims",
        "alg-none",
        "hs256",
        "another-pool",
        "another-client",
        "access-token",
        "unknown-key",
    ],
)
def test_a_bad_token_is_401_unauthorized_with_the_cors_header(
    server: Server, tokens: dict[str, str], case: str
) -> None:
    real = tokens["alice"]
    header, payload, signature = real.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    token = {
        "missing": None,
        "empty": "",
        "malformed": "not-a-token",
        "not-base64": "a.b.c",
        "wrong-signature": f"{header}.{payload}.{flipped}",
        "forged-claims": f"{header}.{_b64({**claims(real), 'email': BOB})}.{signature}",
        "alg-none": f"{_b64({'alg': 'none', 'kid': claims_kid(real)})}.{payload}.",
        "hs256": f"{_b64({'alg': 'HS256', 'kid': claims_kid(real)})}.{payload}.{signature}",
        "another-pool": _forged(
            server, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Another01"
        ),
        "another-client": _forged(server, aud="someotherclient0000000000"),
        "access-token": sign_in(server, ALICE)["AccessToken"],
        "unknown-key": real.replace(header, _b64({"alg": "RS256", "kid": "other"}), 1),
    }[case]
    reply = _refused(server, token)
    assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
    assert reply.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_a_token_of_another_real_pool_is_401(server: Server) -> None:
    """A second pool at the endpoint signs with the same (local) key: `iss` tells them apart."""
    client = cognito(server)
    pool = client.create_user_pool(PoolName="another", UsernameAttributes=["email"])["UserPool"]["Id"]
    app = client.create_user_pool_client(
        UserPoolId=pool, ClientName="x", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    client.admin_create_user(UserPoolId=pool, Username=ALICE, MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool, Username=ALICE, Password=PASSWORD, Permanent=True)
    token = client.initiate_auth(
        ClientId=app, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": ALICE, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]["IdToken"]
    assert _refused(server, token).status == 401


def test_an_expired_token_is_401_with_its_own_message(server: Server) -> None:
    reply = _refused(server, _forged(server, exp=int(time.time()) - 5))
    assert (reply.status, reply.json()) == (401, {"message": "The incoming token has expired"})


def test_a_token_accepted_before_is_refused_once_it_expires(server: Server) -> None:
    token = _forged(server, exp=int(time.time()) + 2)
    assert _refused(server, token).status == 200  # verified, and remembered until it expires
    time.sleep(2.5)
    reply = _refused(server, token)
    assert (reply.status, reply.json()) == (401, {"message": "The incoming token has expired"})


def test_the_claims_reach_the_function_as_api_gateway_passes_them(server: Server) -> None:
    token = _forged(
        server, sub="11111111-2222-4333-8444-555555555555", **{"cognito:groups": ["editors", "admin"]}
    )
    reply = server.request(
        "POST", "/records", {"email": BOB, "name": "by a forged admin"}, {"Authorization": token}
    )
    assert reply.status == 201, reply.body  # an admin (the group list, comma-separated) may write for Bob
    assert reply.json()["created_by"] == "11111111-2222-4333-8444-555555555555"


# -- sign-in as Cognito checks it ------------------------------------------------------------------------
def test_a_wrong_password_is_refused(server: Server) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        sign_in(server, ALICE, "Wr0ng-Password!!")
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_srp_is_refused_locally_and_the_clients_flows_are_enforced(server: Server) -> None:
    from botocore.exceptions import ClientError

    client = cognito(server)
    ids = local(server)
    with pytest.raises(ClientError) as srp:
        client.initiate_auth(
            ClientId=ids["client_id"],
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": ALICE, "SRP_A": "ab"},
        )
    assert "USER_PASSWORD_AUTH" in srp.value.response["Error"]["Message"]
    only_srp = client.create_user_pool_client(
        UserPoolId=ids["user_pool_id"], ClientName="srp-only", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"]
    )["UserPoolClient"]["ClientId"]
    with pytest.raises(ClientError) as password:
        client.initiate_auth(
            ClientId=only_srp,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": ALICE, "PASSWORD": PASSWORD},
        )
    assert (
        password.value.response["Error"]["Message"] == "USER_PASSWORD_AUTH flow not enabled for this client"
    )


def test_the_id_token_says_the_email_is_verified(server: Server, tokens: dict[str, str]) -> None:
    assert claims(tokens["alice"])["email_verified"] is True
    assert claims(tokens["admin"])["cognito:groups"] == ["admin"]


def test_a_refresh_token_gives_a_new_id_token(server: Server) -> None:
    signed_in = sign_in(server, ALICE)
    refreshed = cognito(server).initiate_auth(
        ClientId=local(server)["client_id"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": signed_in["RefreshToken"]},
    )["AuthenticationResult"]
    assert server.request("GET", "/records", headers={"Authorization": refreshed["IdToken"]}).status == 200


# -- state ------------------------------------------------------------------------------------------------
def test_users_passwords_and_groups_survive_a_restart(tmp_path: Path) -> None:
    first = start_server(tmp_path, signed_in=True)
    try:
        add_user(first, "dora@example.com", groups=("admin",))
        before = claims(sign_in(first, "dora@example.com")["IdToken"])
        password_file = state_dir(first) / "cognito-idp" / "admin-password"
        password = password_file.read_text()
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert "sign in as admin@example.com" in first.output()
    finally:
        first.stop()
    again = start_server(tmp_path, signed_in=True)
    try:
        token = sign_in(again, "dora@example.com")["IdToken"]
        after = claims(token)
        assert (after["sub"], after["iss"], after["aud"], after["cognito:groups"]) == (
            before["sub"],
            before["iss"],
            before["aud"],
            ["admin"],
        )
        assert password_file.read_text() == password  # the local admin is made once
        sign_in(again, LOCAL_ADMIN, password.strip())
        created = again.request("POST", "/records", {"email": BOB, "name": "x"}, {"Authorization": token})
        assert created.status == 201  # still an admin
    finally:
        again.stop()


def test_an_unreadable_signing_key_is_replaced_and_the_tokens_it_signed_are_refused(tmp_path: Path) -> None:
    first = start_server(tmp_path, signed_in=True)
    try:
        old = sign_in(first, LOCAL_ADMIN, admin_password(first))["IdToken"]
        key_file = state_dir(first) / "cognito-idp" / "signing-key.pem"
    finally:
        first.stop()
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")

    again = start_server(tmp_path, signed_in=True)
    try:
        assert f"the signing key {key_file} could not be read" in again.output()
        assert key_file.with_name("signing-key.pem.damaged").exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert again.request("GET", "/records", headers={"Authorization": old}).status == 401
        new = sign_in(again, LOCAL_ADMIN, admin_password(again))["IdToken"]
        assert again.request("GET", "/records", headers={"Authorization": new}).status == 200
    finally:
        again.stop()


def test_the_open_mode_needs_no_token(tmp_path: Path) -> None:
    open_server = start_server(tmp_path)  # the tests' default: --parameter-overrides AuthMode=none
    try:
        assert open_server.request("POST", "/records", {"email": ALICE, "name": "open"}).status == 201
        assert open_server.request("GET", "/records").status == 200
        assert "Cognito" not in open_server.output()
    finally:
        open_server.stop()


@pytest.mark.parametrize("signed_in", [False, True], ids=["open", "signed-in"])
def test_the_api_key_is_enforced_when_required(tmp_path: Path, signed_in: bool) -> None:
    keyed = start_server(tmp_path, "--parameter-overrides", "ApiKeyRequired=true", signed_in=signed_in)
    try:
        key = (state_dir(keyed) / "api-key").read_text().strip()
        auth = (
            {"Authorization": sign_in(keyed, LOCAL_ADMIN, admin_password(keyed))["IdToken"]}
            if signed_in
            else {}
        )
        without = keyed.request("GET", "/records", headers=auth)
        assert (without.status, without.json()) == (403, {"message": "Forbidden"})
        wrong = keyed.request("GET", "/records", headers={**auth, "x-api-key": key + "x"})
        assert wrong.status == 403
        assert keyed.request("GET", "/records", headers={**auth, "x-api-key": key}).status == 200
        if signed_in:  # the key does not replace the token
            assert keyed.request("GET", "/records", headers={"x-api-key": key}).status == 401
        assert keyed.request("GET", "/health").status == 200  # the pages need no key
        assert "x-api-key" in keyed.output()
    finally:
        keyed.stop()
