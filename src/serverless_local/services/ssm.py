"""Systems Manager parameters: the template's parameters in moto, and `{{resolve:ssm:...}}` references.

An `AWS::SSM::Parameter` (`Name`, else the logical id; `Type`, `Value`, `Description`) is put in
moto's Parameter Store; `!Ref` is its name, `!GetAtt .Value`/`.Type` what it holds, and
`{{resolve:ssm:NAME}}` (or `NAME:VERSION`) anywhere in the template resolves to its value. What the
endpoint changes lasts until the server stops (the template's values come back at each start).
"""

from __future__ import annotations

from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION
from serverless_local.services.base import Service, ServiceContext
from serverless_local.template import Unresolvable

PARAMETER_TYPE = "AWS::SSM::Parameter"


class SsmService(Service):
    """The template's parameters in the embedded Parameter Store."""

    title: ClassVar[str] = "SSM"
    resource_types: ClassVar[frozenset[str]] = frozenset({PARAMETER_TYPE})
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.parameters: dict[str, dict[str, str]] = {}

    def start(self) -> None:
        """Read the parameters (their values are known before moto runs) and resolve references."""
        template = self.context.template
        for resource in self.resources:
            properties = template.resolve(resource.properties, resource.logical_id)
            value = properties.get("Value")
            self.parameters[resource.logical_id] = {
                "name": str(properties.get("Name") or resource.logical_id),
                "type": str(properties.get("Type") or "String"),
                "value": ",".join(value) if isinstance(value, list) else str(value),
                "description": str(properties.get("Description") or ""),
            }
        template.resolver.providers[PARAMETER_TYPE] = self.value
        template.resolver.dynamic["ssm"] = self.reference

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the name), `!GetAtt .Value` and `.Type` of a parameter."""
        parameter = self.parameters[logical_id]
        if attribute is None:
            return parameter["name"]
        if attribute in ("Value", "Type"):
            return parameter[attribute.lower()]
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def reference(self, parts: list[str]) -> str:
        """`{{resolve:ssm:NAME[:VERSION]}}` of a parameter of the template."""
        name = parts[0]
        for parameter in self.parameters.values():
            if parameter["name"] == name:
                return parameter["value"]
        raise Unresolvable(f"the parameter {name} is not in the template")

    def attach(self) -> None:
        """Put the parameters in moto (its Parameter Store is imported only then: ~3 s of start-up)."""
        if not self.parameters:
            return
        from moto.ssm.models import ssm_backends

        backend = ssm_backends[ACCOUNT_ID][REGION]
        for parameter in self.parameters.values():
            backend.put_parameter(
                name=parameter["name"],
                description=parameter["description"],
                value=parameter["value"],
                parameter_type=parameter["type"],
                allowed_pattern=None,  # type: ignore[arg-type]
                keyid=None,  # type: ignore[arg-type]
                overwrite=True,
                tags=[],
                data_type="text",
                tier=None,
                policies=None,
            )

    def report(self) -> str | None:
        """The parameters' names."""
        return ", ".join(sorted(p["name"] for p in self.parameters.values())) or None
