"""The AWS provider's schema, read from its published language bindings, condensed to one JSON file.

The wheel of CDK Terrain's prebuilt AWS provider (`cdktn-provider-aws`, pinned with its hash in
requirements/terraform-provider.txt) carries the provider's jsii assembly: a compressed `.jsii`
JSON generated from `terraform providers schema -json` of one provider version. It lists every
resource and data source, each argument with its type and whether it is required, and each nested
block. This script reads it with the standard library (no node, no import of the bindings) and
writes what the module checks need:

    {"provider": "hashicorp/aws", "version": "6.69.1", "bindings": "cdktn-provider-aws 25.8.1",
     "resources": {"aws_dynamodb_table": SCHEMA, ...}, "data_sources": {...},
     "ephemeral_resources": {...}, "provider_config": SCHEMA}

    SCHEMA  = {"arguments": {name: {"type": TYPE, "required": bool}},
               "blocks": {name: {"nesting": "list" | "single", "required": bool, **SCHEMA}},
               "attributes": {name: TYPE}}      # what a reference may read (computed ones too)
    TYPE    = "string" | "number" | "bool" | "any" | ["list", TYPE] | ["map", TYPE]
              | ["object", SCHEMA-without-blocks] | ["list", ["object", ...]]

    python scripts/terraform_provider_schema.py WHEEL OUT.json
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

Jsii = dict[str, Any]

_LINK = re.compile(r"\{@link https://[^/]+/providers/hashicorp/aws/([^/]+)/docs/([a-z-]+)/(\w+) (\w+)\}")
_ANCHOR = re.compile(r"\{@link https://[^/]+/providers/hashicorp/aws/[^ #]+#(\w+) [^}]+\}")
_PROVIDER_PREFIX = "@cdktn/provider-aws."
_RESOLVABLE = "cdktn.IResolvable"


def read_assembly(wheel: Path) -> tuple[Jsii, str]:
    """The jsii assembly inside the wheel, and the wheel's distribution name and version."""
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = dict(
            line.split(": ", 1) for line in archive.read(metadata).decode().splitlines() if ": " in line
        )
        with tarfile.open(fileobj=io.BytesIO(archive.read(member)), mode="r:gz") as tar:
            extracted = tar.extractfile("package/.jsii")
            assert extracted is not None, "the jsii tarball has no package/.jsii"
            assembly: Jsii = json.load(extracted)
    return assembly, f"{headers['Name']} {headers['Version']}"


def _docs_text(entry: Jsii) -> str:
    docs = entry.get("docs", {})
    return f"{docs.get('summary', '')} {docs.get('remarks', '')}"


def _snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def _terraform_name(prop: Jsii) -> str:
    """An argument's Terraform name: the anchor of its registry link (jsii renames a few)."""
    match = _ANCHOR.search(_docs_text(prop))
    return match.group(1) if match else _snake(prop["name"])


def _alternatives(jsii_type: Jsii) -> list[Jsii]:
    """The members of a union type, without the IResolvable token every argument also accepts."""
    if "union" in jsii_type:
        found: list[Jsii] = []
        for member in jsii_type["union"]["types"]:
            found.extend(_alternatives(member))
        return found
    return [] if jsii_type.get("fqn") == _RESOLVABLE else [jsii_type]


class Condenser:
    """Turns jsii types into the condensed schema, resolving struct references once each."""

    def __init__(self, types: dict[str, Jsii]) -> None:
        self.types = types
        self._structs: dict[str, Jsii] = {}
        self._open: set[str] = set()

    def value_type(self, jsii_type: Jsii) -> Any:
        alternatives = _alternatives(jsii_type)
        if len(alternatives) != 1:
            return "any"
        (only,) = alternatives
        if "primitive" in only:
            primitive = only["primitive"]
            return {"boolean": "bool", "json": "any", "date": "string"}.get(primitive, primitive)
        if "collection" in only:
            kind = only["collection"]["kind"]
            element = self.value_type(only["collection"]["elementtype"])
            return ["list" if kind == "array" else "map", element]
        fqn = only.get("fqn", "")
        if fqn.startswith(_PROVIDER_PREFIX) and self.types[fqn].get("datatype"):
            if fqn in self._open:
                return "any"  # a recursive structure (rules within rules): not checked deeper
            return ["object", self.struct(fqn)]
        return "any"

    def struct(self, fqn: str) -> Jsii:
        """A config struct (a resource's, a block's): its arguments and nested blocks."""
        if fqn not in self._structs:
            self._open.add(fqn)
            self._structs[fqn] = self._condense_struct(fqn)
            self._open.discard(fqn)
        return self._structs[fqn]

    def _condense_struct(self, fqn: str) -> Jsii:
        arguments: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        for prop in self.types[fqn].get("properties", []):
            name = _terraform_name(prop)
            required = not prop.get("optional", False)
            summary = prop.get("docs", {}).get("summary", "")
            value = self.value_type(prop["type"])
            if summary.endswith(" block.") and isinstance(value, list):
                if value[0] == "object":
                    blocks[name] = {"nesting": "single", "required": required, **value[1]}
                    continue
                if value[0] == "list" and isinstance(value[1], list) and value[1][0] == "object":
                    blocks[name] = {"nesting": "list", "required": required, **value[1][1]}
                    continue
            arguments[name] = {"type": value, "required": required}
        result: Jsii = {"arguments": arguments}
        if blocks:
            result["blocks"] = blocks
        return result

    def readable(self, class_fqn: str, config_fqn: str, config: Jsii) -> dict[str, Any]:
        """The attributes a reference may read: every argument, and the computed ones of the class."""
        names = {p["name"]: _terraform_name(p) for p in self.types[config_fqn].get("properties", [])}
        attributes: dict[str, Any] = {name: spec["type"] for name, spec in config["arguments"].items()}
        for name, block in config.get("blocks", {}).items():
            attributes[name] = ["list", ["object", {"arguments": block["arguments"]}]]
        for prop in self.types[class_fqn].get("properties", []):
            camel = prop["name"]
            if prop.get("static") or camel.endswith("Input") or camel in ("fqn", "friendlyUniqueId"):
                continue
            name = names.get(camel, _snake(camel))
            if name in attributes:
                continue
            attributes[name] = self._computed_type(prop["type"])
        return attributes

    def _computed_type(self, jsii_type: Jsii) -> Any:
        fqn = jsii_type.get("fqn", "")
        if fqn.startswith(_PROVIDER_PREFIX):
            # ...List / ...OutputReference / ...Map classes read nested computed values.
            kind = "map" if fqn.endswith("Map") else "list"
            return [kind, "any"]
        if fqn in ("cdktn.StringMap", "cdktn.NumberMap", "cdktn.BooleanMap", "cdktn.AnyMap"):
            element = {"cdktn.StringMap": "string", "cdktn.NumberMap": "number", "cdktn.BooleanMap": "bool"}
            return ["map", element.get(fqn, "any")]
        if fqn.startswith("cdktn."):
            return "any"
        return self.value_type(jsii_type)


def _config_of(resource_class: Jsii) -> str:
    """The struct a resource's or data source's constructor takes as its configuration."""
    parameters = resource_class["initializer"]["parameters"]
    (config,) = [p for p in parameters if p["name"] == "config"]
    fqn: str = config["type"]["fqn"]
    return fqn


def condense(assembly: Jsii, bindings: str) -> Jsii:
    """The schema of every resource and data source of the assembly."""
    types: dict[str, Jsii] = assembly["types"]
    condenser = Condenser(types)
    schema: Jsii = {
        "provider": "hashicorp/aws",
        "bindings": bindings,
        "resources": {},
        "data_sources": {},
        "ephemeral_resources": {},
    }
    sections = {
        "resources": "resources",
        "data-sources": "data_sources",
        "ephemeral-resources": "ephemeral_resources",
    }
    for fqn, entry in sorted(types.items()):
        if entry["kind"] != "class" or entry.get("base") not in (
            "cdktn.TerraformResource",
            "cdktn.TerraformDataSource",
            "cdktn.TerraformEphemeralResource",
        ):
            continue
        match = _LINK.search(entry.get("docs", {}).get("summary", ""))
        assert match, f"{fqn}: no registry link naming its Terraform type"
        version, section, _, terraform_type = match.groups()
        schema.setdefault("version", version)
        assert schema["version"] == version, f"{fqn}: documents provider {version}, not {schema['version']}"
        config_fqn = _config_of(entry)
        config = condenser.struct(config_fqn)
        config["attributes"] = condenser.readable(fqn, config_fqn, config)
        schema[sections[section]][terraform_type] = config
    schema["provider_config"] = condenser.struct(_PROVIDER_PREFIX + "provider.AwsProviderConfig")
    return schema


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    wheel, out = Path(argv[0]), Path(argv[1])
    assembly, bindings = read_assembly(wheel)
    schema = condense(assembly, bindings)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(schema, sort_keys=True, separators=(",", ":")))
    tmp.replace(out)
    counts = ", ".join(
        f"{len(schema[s])} {s.replace('_', ' ')}"
        for s in ("resources", "data_sources", "ephemeral_resources")
    )
    print(f"{out}: hashicorp/aws {schema['version']} ({bindings}): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
