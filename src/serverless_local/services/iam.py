"""IAM: what the template's roles and policies resolve to. Permissions are not enforced locally (every
call is allowed); the banner counts them as accepted, not enforced."""

from __future__ import annotations

from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID
from serverless_local.services.base import Service
from serverless_local.template import Unresolvable

ROLE_TYPE = "AWS::IAM::Role"
MANAGED_POLICY_TYPE = "AWS::IAM::ManagedPolicy"
INSTANCE_PROFILE_TYPE = "AWS::IAM::InstanceProfile"


class IamService(Service):
    """`!Ref` and `!GetAtt` of roles, managed policies and instance profiles (names and ARNs)."""

    title: ClassVar[str] = ""
    uses_moto: ClassVar[bool] = False

    def start(self) -> None:
        """Register the values (nothing runs: IAM is not enforced locally)."""
        providers = self.context.template.resolver.providers
        for kind in (ROLE_TYPE, MANAGED_POLICY_TYPE, INSTANCE_PROFILE_TYPE):
            providers[kind] = self.value

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """A role's name (`Ref`), `Arn` and `RoleId`; a managed policy's ARN; a profile's name and ARN."""
        kind = resource.get("Type")
        properties = resource.get("Properties") or {}
        resolve = self.context.template.resolver.resolve
        if kind == MANAGED_POLICY_TYPE:
            name = str(resolve(properties.get("ManagedPolicyName")) or logical_id)
            if attribute in (None, "PolicyArn"):
                return f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}"
        else:
            given = properties.get("RoleName" if kind == ROLE_TYPE else "InstanceProfileName")
            name = str(resolve(given) or logical_id)
            path = str(resolve(properties.get("Path")) or "/")
            if attribute is None:
                return name
            if attribute == "Arn":
                noun = "role" if kind == ROLE_TYPE else "instance-profile"
                return f"arn:aws:iam::{ACCOUNT_ID}:{noun}{path}{name}"
            if attribute == "RoleId":
                return "AROA" + logical_id.upper()[:17].ljust(17, "X")
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")
