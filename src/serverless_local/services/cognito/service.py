"""Cognito user pools: the template's pools, app clients and groups in moto, its users journaled, and
API Gateway's Cognito authorizer (`authorizer`) registered with the gateway.

moto issues real RS256 ID tokens, but it is more permissive than Cognito in three ways, and this
service closes each (see docs/decisions.md):
- a client's `ExplicitAuthFlows` is not enforced by moto: InitiateAuth and AdminInitiateAuth are
  refused here for a flow the client does not allow, with Cognito's own error;
- moto's SRP accepts any password: USER_SRP_AUTH is refused locally (sign in with USER_PASSWORD_AUTH),
  and passwords are checked here, against a scrypt hash of the password the user was given;
- moto's ID tokens lack `email_verified`: it is added, as Cognito writes it (a boolean).

Tokens are signed with the state directory's own key, never moto's bundled one
(serverless_local.services.cognito.keys), and the authorizer accepts that key alone.

The pool and client ids are generated once and kept (`ids.json`), so a function's environment
(`USER_POOL_ID`) and the issuer of tokens stay the same across restarts. Users, their groups, their
state and password hashes are journaled in the `cognito-idp` namespace after each successful change
made through the AWS endpoint (the CLI's `users add`). On first start an admin user is created with a
generated password kept in the state directory (mode 0600), and the banner says how to sign in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import threading
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION
from serverless_local.journal import private_directory, write_private
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.cognito.authorizer import CognitoAuthorizer, PoolKeys, jwk_numbers
from serverless_local.services.cognito.keys import SigningKey, load_signing_key
from serverless_local.stack import Resource

POOL_TYPE = "AWS::Cognito::UserPool"
CLIENT_TYPE = "AWS::Cognito::UserPoolClient"
GROUP_TYPE = "AWS::Cognito::UserPoolGroup"
NAMESPACE = "cognito-idp"
#: The first user of a fresh state directory, in the admin group.
LOCAL_ADMIN = "admin@example.com"
ADMIN_PASSWORD_FILE = "admin-password"  # noqa: S105 (a file name; the password is generated)
#: What the CLI reads to reach the local pool (endpoint, pool and client ids).
LOCAL_FILE = "local.json"
#: Actions after which the user they name is journaled again.
_USER_ACTIONS = frozenset(
    {
        "AdminCreateUser",
        "AdminSetUserPassword",
        "AdminAddUserToGroup",
        "AdminRemoveUserFromGroup",
        "AdminDeleteUser",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminUpdateUserAttributes",
    }
)
_FLOWS = {
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
}
#: The pool properties moto's CreateUserPool takes.
_POOL_PROPERTIES = (
    "Policies",
    "UsernameAttributes",
    "AutoVerifiedAttributes",
    "Schema",
    "AdminCreateUserConfig",
    "UsernameConfiguration",
    "AccountRecoverySetting",
)
_CLIENT_PROPERTIES = (
    "ClientName",
    "ExplicitAuthFlows",
    "GenerateSecret",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<hash hex>` of a password."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str | None) -> bool:
    """Whether `password` is the one `stored` hashes (constant time)."""
    if not stored or stored.count("$") != 2:
        return False
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


def generated_password() -> str:
    """A password any strong policy accepts: 24 letters and digits plus each required class."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(24)) + "aA7!"


class CognitoService(Service):
    """The template's user pools, clients and groups; users journaled; the Cognito authorizer."""

    title: ClassVar[str] = "Cognito"
    resource_types: ClassVar[frozenset[str]] = frozenset({POOL_TYPE, CLIENT_TYPE, GROUP_TYPE})
    namespace: ClassVar[str | None] = NAMESPACE
    #: Its ids are decided before moto runs (the functions' environment names them); the pools are
    #: created in `attach`, once moto runs.
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.directory = context.options.state_dir / NAMESPACE
        self.lock = threading.RLock()
        self.ids: dict[str, str] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.store: Any = None
        self.users_restored = 0
        self.first_start = False
        self.signing: SigningKey | None = None
        self._keys: dict[str, tuple[int, int]] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Decide the ids (kept across restarts) and register them and the authorizer."""
        if not self.resources:
            return
        private_directory(self.directory)
        path = self.directory / "ids.json"
        self.ids = json.loads(path.read_text()) if path.exists() else {}
        known = dict(self.ids)
        for resource in self.resources:
            if resource.logical_id not in self.ids:
                self.ids[resource.logical_id] = _new_id(resource.type, resource.properties, self.context)
        if self.ids != known:
            write_private(path, json.dumps(self.ids, indent=1).encode(), sync=self.context.options.sync)
        self.signing, replaced = load_signing_key(self.directory, sync=self.context.options.sync)
        if replaced:
            self.context.notes.append(f"{self.title}: {replaced}")
        self._keys = {self.signing.kid: jwk_numbers(self.signing.jwks()["keys"][0])}
        providers = self.context.template.resolver.providers
        providers[POOL_TYPE] = lambda logical_id, _, attribute: self._pool_value(logical_id, attribute)
        providers[CLIENT_TYPE] = lambda logical_id, _, attribute: self.ids[logical_id]
        providers[GROUP_TYPE] = lambda logical_id, _, attribute: self.ids[logical_id]
        self.context.authorizers["COGNITO_USER_POOLS"] = CognitoAuthorizer(
            self.context.template.resolver, self.pool_keys
        )
        self.context.issuer_keys = self.issuer_keys

    def attach(self) -> None:
        """Create the pools, clients and groups in moto, close moto's gaps, restore the users."""
        if not self.resources:
            return
        from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
        from moto.cognitoidp.responses import CognitoIdpResponse

        self._sign_with_local_key()
        for resource in self.resources:
            if resource.type == POOL_TYPE:
                self._create_pool(resource)
        for resource in self.resources:
            if resource.type == CLIENT_TYPE:
                self._create_client(resource)
            elif resource.type == GROUP_TYPE:
                properties = self.context.template.resolve(resource.properties, resource.logical_id)
                self.client.create_group(
                    UserPoolId=properties["UserPoolId"],
                    GroupName=properties["GroupName"],
                    Description=properties.get("Description", ""),
                )
        aws = self.context.aws
        service = self
        originals = {
            name: getattr(CognitoIdpBackend, name)
            for name in ("initiate_auth", "admin_initiate_auth", "respond_to_auth_challenge")
        }

        def initiate_auth(backend: Any, client_id: str, auth_flow: str, parameters: dict[str, str]) -> Any:
            return service._sign_in(
                backend, None, client_id, auth_flow, parameters, originals["initiate_auth"]
            )

        def admin_initiate_auth(
            backend: Any, pool_id: str, client_id: str, auth_flow: str, parameters: dict[str, str]
        ) -> Any:
            original = originals["admin_initiate_auth"]
            return service._sign_in(backend, pool_id, client_id, auth_flow, parameters, original)

        def respond_to_auth_challenge(
            backend: Any, session: str, client_id: str, challenge: str, *rest: Any
        ) -> Any:
            from moto.cognitoidp.exceptions import InvalidParameterException

            if challenge == "PASSWORD_VERIFIER":  # moto accepts any SRP proof
                raise InvalidParameterException(_SRP_REFUSED)
            return originals["respond_to_auth_challenge"](backend, session, client_id, challenge, *rest)

        def extra_data(pool: Any, client_id: str, username: str) -> dict[str, Any]:
            data: dict[str, Any] = original_extra(pool, client_id, username)
            verified = pool._get_user(username).attribute_lookup.get("email_verified")
            if verified is not None:  # Cognito's ID token has it, a boolean
                data["email_verified"] = str(verified).lower() == "true"
            return data

        aws.replace(CognitoIdpBackend, "initiate_auth", initiate_auth)
        aws.replace(CognitoIdpBackend, "admin_initiate_auth", admin_initiate_auth)
        aws.replace(CognitoIdpBackend, "respond_to_auth_challenge", respond_to_auth_challenge)
        original_extra = CognitoIdpUserPool.get_user_extra_data_by_client_id
        aws.replace(CognitoIdpUserPool, "get_user_extra_data_by_client_id", extra_data)

        self.store = self.context.store(NAMESPACE)
        self._restore()
        aws.on_action(CognitoIdpResponse, self.lock, self._after_action)
        if self.first_start:
            self._create_local_admin()
        local = {"endpoint": self.context.endpoint, **self.local_ids()}
        write_private(self.directory / LOCAL_FILE, json.dumps(local, indent=1).encode(), sync=False)

    def _sign_with_local_key(self) -> None:
        """Every pool moto makes signs with the state directory's key, names it in each token's header,
        and serves its public half at its JWKS URL (moto's own key pair is never used)."""
        from moto.cognitoidp import models
        from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

        signing = self.signing
        assert signing is not None
        aws = self.context.aws

        def load_resource(resource: str) -> Any:
            # A pool's __init__ reads its private key from moto's bundled file: this one is read instead.
            if resource == "cognitoidp/resources/jwks-private.json":
                return signing.private_jwk()
            return original_load(resource)

        original_load = aws.replace(models, "load_resource", load_resource)
        aws.replace(models, "jwt", _KeyNamingJwt)
        aws.replace(CognitoIdpJsonWebKeyResponse, "json_web_key", signing.jwks_bytes())

    def stop(self) -> None:
        """Close the journal."""
        if self.store is not None:
            self.store.close()

    def report(self) -> str | None:
        """The pools, their users, and how to sign in."""
        if not self.resources:
            return None
        ids = self.local_ids()
        users = sum(len(h) for h in self.hashes.values())
        line = f"user pool {ids['user_pool_id']} (client {ids['client_id']}, {users} users)"
        password = self.directory / ADMIN_PASSWORD_FILE
        if password.exists():
            line += (
                f"; sign in as {LOCAL_ADMIN} with the password in {password} "
                f"(`serverless-crud token {LOCAL_ADMIN} --password-stdin < {password}`)"
            )
        return line

    # -- what the authorizer and the CLI read -------------------------------------------------------
    @property
    def client(self) -> Any:
        """The runtime's own cognito-idp client (in-process; the journal's hook sees its calls once set)."""
        return self.context.aws.client("cognito-idp")

    def local_ids(self) -> dict[str, str]:
        """The first pool's and first client's ids."""
        pool = next((r.logical_id for r in self.resources if r.type == POOL_TYPE), "")
        client = next((r.logical_id for r in self.resources if r.type == CLIENT_TYPE), "")
        return {"user_pool_id": self.ids.get(pool, ""), "client_id": self.ids.get(client, "")}

    def pool_keys(self, pool_id: str) -> PoolKeys | None:
        """The issuer, clients and public key of a pool of this runtime (None if none has this id).

        Every pool signs with the state directory's one key: `iss` and `aud` tell pools apart.
        """
        from moto.cognitoidp.models import cognitoidp_backends

        pool = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools.get(pool_id)
        if pool is None:
            return None
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
        return PoolKeys(issuer, frozenset(pool.clients), self._keys)

    def issuer_keys(self, issuer: str) -> PoolKeys | None:
        """The keys of the pool issuing tokens whose `iss` is `issuer` (None: not a pool of this runtime)."""
        prefix = f"https://cognito-idp.{REGION}.amazonaws.com/"
        return self.pool_keys(issuer[len(prefix) :]) if issuer.startswith(prefix) else None

    def _pool_value(self, logical_id: str, attribute: str | None) -> str:
        pool_id = self.ids[logical_id]
        if attribute is None:
            return pool_id
        values = {
            "Arn": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{pool_id}",
            "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "ProviderURL": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "UserPoolId": pool_id,
        }
        from serverless_local.template import Unresolvable

        if attribute not in values:
            raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")
        return values[attribute]

    # -- creating what the template declares --------------------------------------------------------
    def _create_pool(self, resource: Resource) -> None:
        from moto.cognitoidp.models import cognitoidp_backends

        properties = self.context.template.resolve(resource.properties, resource.logical_id)
        created = self.client.create_user_pool(
            PoolName=str(properties.get("UserPoolName") or resource.logical_id),
            **{name: properties[name] for name in _POOL_PROPERTIES if name in properties},
        )["UserPool"]["Id"]
        # moto draws a new id each start: the pool takes the id kept in ids.json instead.
        pools = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools
        pool = pools.pop(created)
        pool.id = self.ids[resource.logical_id]
        pool.arn = self._pool_value(resource.logical_id, "Arn")
        pools[pool.id] = pool

    def _create_client(self, resource: Resource) -> None:
        from moto.cognitoidp.models import cognitoidp_backends

        properties = self.context.template.resolve(resource.properties, resource.logical_id)
        pool_id = str(properties["UserPoolId"])
        if pool_id not in cognitoidp_backends[ACCOUNT_ID][REGION].user_pools:
            self.context.notes.append(
                f"Cognito: {resource.logical_id} is a client of the pool {pool_id}, which exists only in "
                "AWS: its tokens cannot be checked here (serve without ExistingUserPoolArn, or AuthMode=none)"
            )
            return
        declared = {name: properties[name] for name in _CLIENT_PROPERTIES if name in properties}
        declared.setdefault("ClientName", resource.logical_id)  # optional in a template, not in the API
        created = self.client.create_user_pool_client(UserPoolId=pool_id, **declared)["UserPoolClient"][
            "ClientId"
        ]
        clients = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools[pool_id].clients
        client = clients.pop(created)
        client.id = self.ids[resource.logical_id]
        clients[client.id] = client

    # -- sign-in, as Cognito checks it --------------------------------------------------------------
    def _sign_in(
        self,
        backend: Any,
        pool_id: str | None,
        client_id: str,
        flow: str,
        parameters: dict[str, str],
        original: Any,
    ) -> Any:
        from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError
        from moto.cognitoidp.models import UserStatus

        pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
        if pool is None or (pool_id is not None and pool.id != pool_id):
            return original(backend, *([pool_id] if pool_id else []), client_id, flow, parameters)
        allowed = pool.clients[client_id].extended_config.get("ExplicitAuthFlows") or []
        if _FLOWS.get(flow) not in allowed:
            raise InvalidParameterException(f"{flow.removeprefix('ADMIN_')} flow not enabled for this client")
        if flow == "USER_SRP_AUTH":
            raise InvalidParameterException(_SRP_REFUSED)
        if pool.id not in self.ids.values():  # a pool made at the endpoint, not the template's
            return original(backend, *([pool_id] if pool_id else []), client_id, flow, parameters)
        if flow not in ("USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
            return original(backend, *([pool_id] if pool_id else []), client_id, flow, parameters)
        user = pool._get_user(str(parameters.get("USERNAME", "")).lower())
        stored = self.hashes.get(pool.id, {}).get(_email(user)) if user is not None else None
        if user is None or not password_matches(str(parameters.get("PASSWORD", "")), stored):
            raise NotAuthorizedError("Incorrect username or password.")
        if not user.enabled:
            raise NotAuthorizedError("User is disabled.")
        if user.status != UserStatus.CONFIRMED:
            return original(backend, *([pool_id] if pool_id else []), client_id, flow, parameters)
        return backend._log_user_in(pool, pool.clients[client_id], user.username)

    # -- the journal -------------------------------------------------------------------------------
    def _after_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action not in _USER_ACTIONS:
            return
        from moto.cognitoidp.models import cognitoidp_backends

        if not params:
            params = json.loads(getattr(handler, "body", None) or "{}")

        pool = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools.get(str(params.get("UserPoolId")))
        if pool is None or pool.id not in self.ids.values():
            return
        username = str(params.get("Username", "")).lower()
        hashes = self.hashes.setdefault(pool.id, {})
        if action == "AdminDeleteUser":
            hashes.pop(username, None)
            self.store.append([{"pool": pool.id, "email": username, "deleted": True}])
            return
        user = pool._get_user(username)
        if user is None:
            return
        email = _email(user)
        if action == "AdminSetUserPassword" and params.get("Password"):
            hashes[email] = hash_password(str(params["Password"]))
        elif action == "AdminCreateUser" and params.get("TemporaryPassword"):
            hashes[email] = hash_password(str(params["TemporaryPassword"]))
        self.store.append([{"pool": pool.id, "user": _user_state(user), "hash": hashes.get(email)}])

    def _restore(self) -> None:
        """Replay the journal: each user's last state, with its groups and password hash."""
        contents = self.recover(self.store).journal
        self.first_start = not contents.entries and not contents.damaged
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in contents.entries:
            email = entry.get("email") or (entry.get("user") or {}).get("email")
            latest[(str(entry.get("pool")), str(email))] = entry
        for (pool_id, _), entry in latest.items():
            if entry.get("deleted") or pool_id not in self.ids.values():
                continue
            self._recreate(pool_id, entry["user"], entry.get("hash"))
            self.users_restored += 1

    def _recreate(self, pool_id: str, state: dict[str, Any], stored_hash: str | None) -> None:
        from moto.cognitoidp.models import UserStatus, cognitoidp_backends

        attributes = [{"Name": k, "Value": v} for k, v in state["attributes"].items() if k != "sub"]
        self.client.admin_create_user(
            UserPoolId=pool_id, Username=state["email"], UserAttributes=attributes, MessageAction="SUPPRESS"
        )
        pool = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools[pool_id]
        user = pool._get_user(state["email"])
        # The same sub as before the restart: records name it in created_by.
        del pool.users[user.username]
        user.id = user.username = state["sub"]
        user.update_attributes([{"Name": "sub", "Value": state["sub"]}])
        pool.users[user.username] = user
        user.status, user.enabled = UserStatus(state["status"]), state["enabled"]
        user.password = generated_password()  # never used: passwords are checked against the hash
        for group in state["groups"]:
            self.client.admin_add_user_to_group(UserPoolId=pool_id, Username=state["email"], GroupName=group)
        if stored_hash:
            self.hashes.setdefault(pool_id, {})[state["email"]] = stored_hash

    def _create_local_admin(self) -> None:
        """The first user of a fresh state directory: an admin with a generated password, kept 0600."""
        ids = self.local_ids()
        if not ids["user_pool_id"]:
            return
        password = generated_password()
        path = self.directory / ADMIN_PASSWORD_FILE
        write_private(path, (password + "\n").encode(), sync=self.context.options.sync)
        client = self.client  # its calls pass the journal's hook, as the endpoint's do
        client.admin_create_user(
            UserPoolId=ids["user_pool_id"],
            Username=LOCAL_ADMIN,
            UserAttributes=[
                {"Name": "email", "Value": LOCAL_ADMIN},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        client.admin_set_user_password(
            UserPoolId=ids["user_pool_id"], Username=LOCAL_ADMIN, Password=password, Permanent=True
        )
        groups = [r for r in self.resources if r.type == GROUP_TYPE]
        for group in groups:
            client.admin_add_user_to_group(
                UserPoolId=ids["user_pool_id"], Username=LOCAL_ADMIN, GroupName=self.ids[group.logical_id]
            )


_SRP_REFUSED = (
    "USER_SRP_AUTH is not verified by the local user pool (it would accept any password); "
    "sign in with USER_PASSWORD_AUTH locally"
)


def _email(user: Any) -> str:
    return str(user.attribute_lookup.get("email", "")).lower()


def _user_state(user: Any) -> dict[str, Any]:
    return {
        "email": _email(user),
        "sub": user.id,
        "status": str(getattr(user.status, "value", user.status)),
        "enabled": bool(user.enabled),
        "attributes": {str(k): str(v) for k, v in user.attribute_lookup.items()},
        "groups": sorted(group.group_name for group in user.groups),
    }


def _new_id(kind: str, properties: dict[str, Any], context: ServiceContext) -> str:
    """A Cognito-shaped id: `<region>_<9 letters and digits>` for a pool, 26 characters for a client;
    a group's id is its name."""
    alphabet = string.ascii_letters + string.digits
    if kind == POOL_TYPE:
        return f"{REGION}_" + "".join(secrets.choice(alphabet) for _ in range(9))
    if kind == CLIENT_TYPE:
        return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(26))
    return str(context.template.resolve(properties.get("GroupName"), "group") or "group")


class _KeyNamingJwt:
    """`jwt` as moto's Cognito models use it (`jwt.encode(header, claims, key)`), with the header naming
    the key that signs (moto writes `kid: dummy` in every token)."""

    @staticmethod
    def encode(header: dict[str, Any], claims: dict[str, Any], key: Any, *args: Any, **kwargs: Any) -> str:
        from joserfc import jwt

        return str(jwt.encode({**header, "kid": key.kid}, claims, key, *args, **kwargs))
