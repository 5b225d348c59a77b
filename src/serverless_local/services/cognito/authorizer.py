"""API Gateway's Cognito user pools authorizer (REST API, no OAuth scopes), run locally.

What API Gateway checks of the `Authorization` header (the raw ID token, or `Bearer <token>`): an
RS256 signature by one of the pool's keys (its JWKS), `iss` of a pool the authorizer names, `token_use`
`id`, `aud` one of that pool's app clients, and `exp`. A missing header or any failed check is 401
`{"message":"Unauthorized"}`; a token that is valid but expired is 401
`{"message":"The incoming token has expired"}`. The claims reach the integration in
`requestContext.authorizer.claims`, every value a string as API Gateway writes them: numbers as
digits, `exp` and `iat` as dates (`Tue Apr 04 18:39:39 UTC 2023`), booleans as `true`/`false`,
`cognito:groups` comma-separated.

A token once verified is remembered until it expires (by its text and the pools asked about), so a
signed-in client's later requests cost a dictionary lookup, not a signature check and a parse.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serverless_local.http import GatewayError, HttpRequest
from serverless_local.jwt_tokens import b64url as _b64
from serverless_local.jwt_tokens import json_part as _json_part
from serverless_local.jwt_tokens import rs256_valid as _signed
from serverless_local.services.apigateway.gateway import UNAUTHORIZED
from serverless_local.stack import ApiSpec
from serverless_local.template import Resolver, TemplateError

EXPIRED = GatewayError(401, "The incoming token has expired", "EXPIRED_TOKEN", "UnauthorizedException")
#: API Gateway's text for the date claims (Java's Date.toString in UTC).
DATE_CLAIMS = frozenset({"exp", "iat"})
_DATE = "%a %b %d %H:%M:%S UTC %Y"
#: Tokens remembered as verified (the oldest is forgotten first).
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class PoolKeys:
    """What the authorizer needs of one user pool: its issuer, its app clients, its public keys."""

    issuer: str
    clients: frozenset[str]
    #: kid -> (modulus, exponent) of the pool's RS256 keys.
    keys: dict[str, tuple[int, int]]


#: A pool's keys by pool id (None: the pool does not exist here).
PoolLookup = Callable[[str], PoolKeys | None]


class CognitoAuthorizer:
    """The gateway's check for routes whose authorizer is of type cognito_user_pools."""

    def __init__(self, resolver: Resolver, pools: PoolLookup) -> None:
        self.resolver = resolver
        self.pools = pools
        self._configurations: dict[int, tuple[Any, tuple[str, list[str]]]] = {}
        #: (token, pool ARNs) -> (its expiry, its claims as API Gateway passes them).
        self._verified: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def __call__(
        self, api: ApiSpec, name: str, declared: Any, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        header, arns = self._configuration(declared)
        token = next((v for k, v in (event["headers"] or {}).items() if k.lower() == header), "")
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        key = (token, tuple(arns))
        known = self._verified.get(key)
        if known is None or known[0] <= time.time():
            claims = self.verify(token, arns)
            if isinstance(claims, GatewayError):
                return claims
            known = (float(claims["exp"]), api_gateway_claims(claims))
            with self._lock:
                if len(self._verified) >= VERIFIED_TOKENS:
                    del self._verified[next(iter(self._verified))]
                self._verified[key] = known
        event["requestContext"]["authorizer"] = {"claims": dict(known[1])}
        return None

    def _configuration(self, declared: Any) -> tuple[str, list[str]]:
        """The header and pool ARNs of an authorizer (resolved once: the template does not change)."""
        cached = self._configurations.get(id(declared))
        if cached is None or cached[0] is not declared:
            cached = self._configurations[id(declared)] = (declared, _configuration(self.resolver, declared))
        return cached[1]

    def verify(self, token: str, pool_arns: list[str]) -> dict[str, Any] | GatewayError:
        """The token's claims if it is a valid, unexpired ID token of one of the pools (checked now)."""
        parts = token.split(".")
        if len(parts) != 3:
            return UNAUTHORIZED
        header, claims = _json_part(parts[0]), _json_part(parts[1])
        signature = _b64(parts[2])
        if header is None or claims is None or signature is None or header.get("alg") != "RS256":
            return UNAUTHORIZED
        pools = [p for p in (self.pools(arn.rpartition("/")[2]) for arn in pool_arns) if p is not None]
        pool = next((p for p in pools if p.issuer == claims.get("iss")), None)
        key = pool.keys.get(str(header.get("kid"))) if pool is not None else None
        if pool is None or key is None or not _signed(f"{parts[0]}.{parts[1]}".encode(), signature, key):
            return UNAUTHORIZED
        if claims.get("token_use") != "id" or claims.get("aud") not in pool.clients:
            return UNAUTHORIZED
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return UNAUTHORIZED
        if expires <= time.time():
            return EXPIRED
        return claims


def _configuration(resolver: Resolver, declared: Any) -> tuple[str, list[str]]:
    """(the header, lower-cased; the pool ARNs) of an OpenAPI security scheme or a SAM authorizer."""
    try:
        config = resolver.resolve(declared) if isinstance(declared, dict) else {}
    except TemplateError:
        config = {}
    if "UserPoolArn" in config:  # SAM Auth.Authorizers
        arns = config["UserPoolArn"]
        header = (config.get("Identity") or {}).get("Header") or "Authorization"
    else:
        arns = (config.get("x-amazon-apigateway-authorizer") or {}).get("providerARNs") or []
        header = config.get("name") or "Authorization"
    return str(header).lower(), [str(a) for a in (arns if isinstance(arns, list) else [arns])]


def api_gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The claims as API Gateway passes them to a REST integration: every value a string."""
    passed = {}
    for name, value in claims.items():
        if name in DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            passed[name] = time.strftime(_DATE, time.gmtime(value))
        elif isinstance(value, bool):
            passed[name] = "true" if value else "false"
        elif isinstance(value, list):
            passed[name] = ",".join(str(v) for v in value)
        elif isinstance(value, dict):
            passed[name] = json.dumps(value, separators=(",", ":"))
        else:
            passed[name] = str(value)
    return passed


def jwk_numbers(jwk: dict[str, Any]) -> tuple[int, int]:
    """(modulus, exponent) of an RSA JSON Web Key."""
    modulus, exponent = _b64(str(jwk["n"])), _b64(str(jwk["e"]))
    if modulus is None or exponent is None:
        raise ValueError("not an RSA key")
    return int.from_bytes(modulus, "big"), int.from_bytes(exponent, "big")
