"""The local user pools' signing key: an RSA key of the state directory's own, never moto's.

moto signs every pool's tokens with one key pair bundled with moto (its private half ships in every
copy of moto): anyone who can reach the local runtime could sign an admin's token with it. The local
runtime instead generates an RS256 key (2048 bits, as Cognito's) the first time a state directory
serves a user pool, keeps it there (`cognito-idp/signing-key.pem`, mode 0600), signs every token with
it under a key id of its own (its RFC 7638 thumbprint), serves its public half at each pool's JWKS
URL, and the local authorizer accepts that key alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serverless_local.journal import write_private

KEY_FILE = "signing-key.pem"


@dataclass(frozen=True)
class SigningKey:
    """The key tokens are signed with (a joserfc RSAKey, its `kid` set)."""

    key: Any

    @property
    def kid(self) -> str:
        """The key id every token's header names."""
        return str(self.key.kid)

    def private_jwk(self) -> dict[str, Any]:
        """The private key as a JSON Web Key (what moto's pools import)."""
        return dict(self.key.as_dict(private=True))

    def jwks(self) -> dict[str, Any]:
        """The public key set served at a pool's `/.well-known/jwks.json`, as Cognito serves it."""
        public = dict(self.key.as_dict(private=False))
        return {
            "keys": [
                {
                    "alg": "RS256",
                    "e": public["e"],
                    "kid": self.kid,
                    "kty": "RSA",
                    "n": public["n"],
                    "use": "sig",
                }
            ]
        }

    def jwks_bytes(self) -> bytes:
        """`jwks()` as the endpoint sends it."""
        return json.dumps(self.jwks()).encode()


def load_signing_key(directory: Path, *, sync: bool = True) -> tuple[SigningKey, str | None]:
    """The state directory's key (generated on first use), and a note if an unreadable one was replaced."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = directory / KEY_FILE
    note = None
    if path.exists():
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < 2048:
                raise ValueError("not an RSA key of 2048 bits or more")
            return _signing_key(private), None
        except (ValueError, TypeError, OSError) as error:
            aside = path.with_name(path.name + ".damaged")
            path.replace(aside)
            note = (
                f"the signing key {path} could not be read ({error}); a new one signs tokens from now "
                f"on, so tokens issued before are refused (sign in again); the old file is kept as {aside}"
            )
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(path, pem, sync=sync)
    return _signing_key(private), note


def _signing_key(private: Any) -> SigningKey:
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(private)
    return SigningKey(RSAKey.import_key(private, {"kid": key.thumbprint()}))
