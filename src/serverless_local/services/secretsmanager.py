"""Secrets Manager: the template's secrets in moto, their generated values kept, dynamic references resolved.

An `AWS::SecretsManager::Secret` gets its `SecretString`, or a value made as its `GenerateSecretString`
says (length, excluded characters and classes, `SecretStringTemplate` with `GenerateStringKey`), made
once and kept in the state directory (`secretsmanager/values.json`, mode 0600), so it is the same at
every start. `!Ref` is its ARN (with a stable suffix), and
`{{resolve:secretsmanager:NAME-OR-ARN:SecretString:KEY}}` anywhere in the template resolves to its
value, so a function's environment holds the very secret the endpoint's `GetSecretValue` returns.
Secrets made or changed at the endpoint are journaled.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
from pathlib import Path
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.journal import private_directory, write_private
from serverless_local.services.base import Service, ServiceContext
from serverless_local.template import Unresolvable

SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
#: Accepted as declared (rotation and policies are not run locally; listed as not emulated).
SIDE_TYPES = ("AWS::SecretsManager::SecretTargetAttachment",)
VALUES_FILE = "values.json"
_ACTIONS = frozenset(
    {
        "CreateSecret",
        "PutSecretValue",
        "UpdateSecret",
        "DeleteSecret",
        "RestoreSecret",
        "UpdateSecretVersionStage",
    }
)
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def generate(options: dict[str, Any]) -> str:
    """A secret as `GenerateSecretString` describes it."""
    length = int(options.get("PasswordLength") or 32)
    excluded = set(str(options.get("ExcludeCharacters") or ""))
    classes = []
    for flag, characters in (
        ("ExcludeLowercase", string.ascii_lowercase),
        ("ExcludeUppercase", string.ascii_uppercase),
        ("ExcludeNumbers", string.digits),
        ("ExcludePunctuation", _PUNCTUATION),
    ):
        if not _true(options.get(flag)):
            allowed = "".join(c for c in characters if c not in excluded)
            if allowed:
                classes.append(allowed)
    if _true(options.get("IncludeSpace")):
        classes.append(" ")
    alphabet = "".join(classes) or string.ascii_letters
    value = [secrets.choice(alphabet) for _ in range(length)]
    if options.get("RequireEachIncludedType", True) not in (False, "false") and len(classes) <= length:
        for position, characters in zip(
            secrets.SystemRandom().sample(range(length), len(classes)), classes, strict=False
        ):
            value[position] = secrets.choice(characters)
    text = "".join(value)
    template = options.get("SecretStringTemplate")
    if template and options.get("GenerateStringKey"):
        document = json.loads(template) if isinstance(template, str) else dict(template)
        document[str(options["GenerateStringKey"])] = text
        return json.dumps(document)
    return text


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def secret_arn(name: str) -> str:
    """A secret's local ARN: its name and a suffix derived from it (stable across restarts)."""
    suffix = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-{suffix}"


class SecretsManagerService(Service):
    """The template's secrets in the embedded Secrets Manager."""

    title: ClassVar[str] = "Secrets"
    resource_types: ClassVar[frozenset[str]] = frozenset({SECRET_TYPE, *SIDE_TYPES})
    namespace: ClassVar[str | None] = "secretsmanager"
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.directory = context.options.state_dir / "secretsmanager"
        self.store = context.store("secretsmanager")
        self.names: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.lock = threading.RLock()
        self._patches = Patches()
        self._recording = False

    def start(self) -> None:
        """Name the secrets, decide their values (kept across restarts), resolve references to them."""
        template = self.context.template
        kept_path = self.directory / VALUES_FILE
        kept: dict[str, str] = json.loads(kept_path.read_text()) if kept_path.exists() else {}
        for resource in self.resources:
            if resource.type != SECRET_TYPE:
                continue
            where = resource.logical_id
            properties = template.resolve(resource.properties, where)
            self.names[where] = str(properties.get("Name") or where)
            if "SecretString" in properties:
                self.values[where] = str(properties["SecretString"])
            else:
                self.values[where] = kept.get(where) or generate(properties.get("GenerateSecretString") or {})
        declared = {r.logical_id for r in self.resources if "SecretString" in r.properties}
        _write_private(kept_path, {k: v for k, v in self.values.items() if k not in declared})
        template.resolver.providers[SECRET_TYPE] = self.value
        template.resolver.dynamic["secretsmanager"] = self.reference

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the ARN) and `!GetAtt .Id` of a secret."""
        if attribute in (None, "Id"):
            return secret_arn(self.names[logical_id])
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def reference(self, parts: list[str]) -> str:
        """`{{resolve:secretsmanager:ID[:SecretString[:KEY[:STAGE[:VERSION]]]]}}` of a secret held here."""
        identifier = ":".join(parts)
        found = None
        for logical_id, name in self.names.items():
            arn = secret_arn(name)
            for candidate in (arn, name):
                if identifier == candidate or identifier.startswith(candidate + ":"):
                    found, rest = logical_id, identifier[len(candidate) :].lstrip(":")
                    break
            if found:
                break
        if found is None:
            raise Unresolvable(f"the secret {parts[0]} is not in the template")
        value = self.current(found)
        fields = rest.split(":") if rest else []
        key = fields[1] if len(fields) > 1 else ""
        if key:
            try:
                return str(json.loads(value)[key])
            except (ValueError, KeyError, TypeError):
                raise Unresolvable(f"the secret {parts[0]} has no JSON key {key}") from None
        return value

    def current(self, logical_id: str) -> str:
        """A template secret's value now (AWSCURRENT at the endpoint, once moto runs)."""
        if self.context.aws.running and self._recording:
            secret = self.backend.secrets.get(self.names[logical_id])
            if secret is not None and secret.secret_string is not None:
                return str(secret.secret_string)
        return self.values[logical_id]

    @property
    def backend(self) -> Any:
        """The one Secrets Manager backend."""
        from moto.secretsmanager.models import secretsmanager_backends

        return secretsmanager_backends[ACCOUNT_ID][REGION]

    def attach(self) -> None:
        """Create the secrets with their values, then what the endpoint made or changed."""
        from moto.secretsmanager.responses import SecretsManagerResponse

        for logical_id, name in self.names.items():
            if name not in self.backend.secrets:
                self.backend.create_secret(
                    name=name,
                    secret_string=self.values[logical_id],
                    secret_binary=None,
                    description=None,
                    tags=None,
                    kms_key_id=None,
                    client_request_token=None,
                    replica_regions=[],
                    force_overwrite=False,
                )
                self.backend.secrets[name].arn = secret_arn(name)
        for entry in self.recover(self.store).journal.entries:
            self._replay(entry)
        self.context.aws.on_action(SecretsManagerResponse, self.lock, self._after_action)
        self._recording = True

    def stop(self) -> None:
        """Close the journal."""
        self._patches.restore()
        self.store.close()

    def report(self) -> str | None:
        """The secrets (never their values)."""
        names = sorted(self.backend.secrets.keys()) if self.context.aws.running else []
        return ", ".join(names) or None

    def _after_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action not in _ACTIONS or not self._recording:
            return
        identifier = str(params.get("SecretId") or params.get("Name") or "")
        secret = self.backend.secrets.get(identifier)
        if secret is None:
            self.store.append([{"op": "gone", "id": identifier}])
            return
        versions = {
            version_id: {
                "string": version.get("secret_string"),
                "binary": version.get("secret_binary"),
                "stages": list(version.get("version_stages") or []),
                "created": version.get("createdate"),
            }
            for version_id, version in secret.versions.items()
        }
        self.store.append(
            [
                {
                    "op": "secret",
                    "name": secret.name,
                    "arn": secret.arn,
                    "description": secret.description,
                    "versions": versions,
                    "deleted": secret.deleted_date,
                    "current": secret.default_version_id,
                }
            ]
        )

    def _replay(self, entry: dict[str, Any]) -> None:
        secrets_store = self.backend.secrets
        if entry["op"] == "gone":
            secrets_store.pop(entry["id"])
            return
        if entry["name"] not in secrets_store:
            self.backend.create_secret(
                name=entry["name"],
                secret_string="-",  # noqa: S106 (replaced by the journaled versions below)
                secret_binary=None,
                description=entry["description"],
                tags=None,
                kms_key_id=None,
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
        secret = secrets_store[entry["name"]]
        secret.arn = entry["arn"]
        secret.description = entry["description"]
        secret.deleted_date = entry["deleted"]
        secret.versions = {
            version_id: {
                "version_id": version_id,
                "secret_string": version["string"],
                "secret_binary": version["binary"],
                "version_stages": version["stages"],
                "createdate": version["created"],
            }
            for version_id, version in entry["versions"].items()
        }
        current = entry.get("current")
        if current in secret.versions:
            secret.default_version_id = current
            secret.secret_string = secret.versions[current]["secret_string"]
            secret.secret_binary = secret.versions[current]["secret_binary"]


def _write_private(path: Path, values: dict[str, str]) -> None:
    private_directory(path.parent)
    write_private(path, json.dumps(values, indent=1).encode())
