"""What a template declares that the local runtime does not emulate, by name, for the banner.

Nothing is skipped in silence: a resource of a type no service runs, an event of a type no event source
or service runs, a function property with a behaviour the runtime does not reproduce, are each named.
Permissions (IAM roles and policies, SAM policy templates and connectors, resource policies, Lambda
permissions) are accepted as declared and not enforced: every call is allowed locally; they are
counted on a line of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from serverless_local.stack import LocalTemplate

#: Resource types that only grant or restrict access: accepted, not enforced.
PERMISSION_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::Serverless::Connector",
        "AWS::Lambda::Permission",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::Events::EventBusPolicy",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::ApiGateway::Account",
    }
)
#: Function properties whose behaviour the runtime does not reproduce (the others it does, or they do
#: not change what a function does: Architectures, Tags, Description...).
FUNCTION_PROPERTIES = (
    "FileSystemConfigs",
    "ProvisionedConcurrencyConfig",
    "SnapStart",
    "ReservedConcurrentExecutions",
    "FunctionUrlConfig",
    "Tracing",
    "TenancyConfig",
    "DurableConfig",
    "VpcConfig",
)
#: Function properties about permissions (counted with the permission types).
PERMISSION_PROPERTIES = ("Policies", "Role", "PermissionsBoundary")


@dataclass
class Coverage:
    """What is not emulated, and what is accepted but not enforced."""

    not_emulated: list[str] = field(default_factory=list)
    not_enforced: list[str] = field(default_factory=list)

    def lines(self, width: int = 100) -> list[str]:
        """The banner's lines (wrapped)."""
        lines = []
        for label, items in (("not emulated", self.not_emulated), ("not enforced", self.not_enforced)):
            if items:
                lines.extend(wrapped(f"  {label:<12} ", items, width))
        return lines


def coverage(
    template: LocalTemplate,
    resource_types: Iterable[str],
    event_types: Iterable[str],
    extra: Iterable[str] = (),
) -> Coverage:
    """What `template` declares beyond the `resource_types` and `event_types` the runtime runs, with
    what the services themselves reported (`extra`)."""
    runs, handles = set(resource_types), set(event_types)
    by_type: dict[str, list[str]] = {}
    properties: list[str] = []
    permissions: list[str] = []
    for resource in template.resources.values():
        if resource.type in PERMISSION_TYPES:
            permissions.append(resource.logical_id)
        elif resource.type not in runs:
            by_type.setdefault(resource.type, []).append(resource.logical_id)
        if resource.type == "AWS::Serverless::Function":
            declared = template.resolver.conditional(
                {k: v for k, v in resource.properties.items() if k in FUNCTION_PROPERTIES}
            )
            named = [name for name in FUNCTION_PROPERTIES if _declared(declared.get(name))]
            if named:
                properties.append(f"{resource.logical_id} {', '.join(named)}")
            if any(resource.properties.get(name) for name in PERMISSION_PROPERTIES):
                permissions.append(f"{resource.logical_id} policies")
    events: dict[str, list[str]] = {}
    for event in template.events():
        if event.type not in handles:
            events.setdefault(f"{event.type} events", []).append(f"{event.owner}.{event.event_id}")
    found = Coverage(not_emulated=list(extra))
    found.not_emulated += [f"{kind} {', '.join(names)}" for kind, names in by_type.items()]
    found.not_emulated += [f"{kind} {', '.join(names)}" for kind, names in events.items()]
    found.not_emulated += properties
    if permissions:
        found.not_enforced.append("permissions, every call is allowed: " + ", ".join(permissions))
    return found


def _declared(value: object) -> bool:
    """Whether a property says something (`SnapStart: {ApplyOn: None}` says nothing)."""
    if isinstance(value, dict) and value.get("ApplyOn") == "None":
        return False
    return value not in (None, "", [], {})


def wrapped(prefix: str, items: list[str], width: int = 100) -> list[str]:
    """`items` after `prefix`, separated by semicolons, in lines of `width` at most (continued under
    the first item)."""
    lines: list[str] = []
    current = prefix
    for number, item in enumerate(items):
        piece = item + ("; " if number < len(items) - 1 else "")
        if len(current) + len(piece) > width and current.strip() != prefix.strip():
            lines.append(current.rstrip())
            current = " " * len(prefix)
        current += piece
    lines.append(current.rstrip())
    return lines
