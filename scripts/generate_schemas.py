"""Write every file generated from the record model and the route declarations (`make schemas`):

- src/serverless_crud/models/schemas.json: the record's JSON Schemas with each field's usage (the
  request validator, the OpenAPI document, the UI and everything that lists fields read it);
- openapi/apigateway.json: the API Gateway definition of the routes, with `${name}` placeholders;
- template.yaml's `RecordsApi.DefinitionBody`: that definition as SAM deploys it;
- docs/record-fields.md: the record's fields, as the docs show them.

`python scripts/generate_schemas.py --check` writes nothing and fails naming each stale file (the
tests run the same comparison).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFINITION_FILE = ROOT / "openapi" / "apigateway.json"
TEMPLATE_FILE = ROOT / "template.yaml"
FIELDS_DOC = ROOT / "docs" / "record-fields.md"
BEGIN = "      # BEGIN DefinitionBody, generated from openapi/apigateway.json by `make schemas`: edit the\n"
END = "      # END DefinitionBody (generated)\n"


def render() -> str:
    """models/schemas.json: the model's schemas, stable key order, one trailing newline."""
    from serverless_crud.models.record import schemas

    return json.dumps(schemas(), indent=1, ensure_ascii=False) + "\n"


def _declared() -> list[Any]:
    os.environ.setdefault("TABLE_NAME", "records")  # the route modules read the settings' defaults
    from serverless_crud.api.app import declared

    return declared()


def render_definition() -> str:
    """openapi/apigateway.json."""
    from serverless_crud.api.apigateway import definition

    return json.dumps(definition(_declared()), indent=2) + "\n"


# -- SAM: the definition as template.yaml's DefinitionBody ----------------------------------------
#: What each placeholder is in the template: a `!Sub` text, or (a whole value) a YAML expression.
SAM_SUBSTITUTIONS = {
    "api_name": "${AWS::StackName}-api",
    "records_function_invoke_arn": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
    "functions/${RecordsFunctionAliaslive}/invocations",
}
SAM_VALUES = {"${user_pool_arn}": "!If [CreateUserPool, !GetAtt UserPool.Arn, !Ref ExistingUserPoolArn]"}
#: A signed-in method's security as SAM applies the parameters: sign-in (AuthMode) and the API key
#: (ApiKeyRequired); defined once (an anchor), referred to after.
SIGNED_IN_SECURITY = (
    "!If\n- UseCognito\n- !If [UseApiKey, [{ cognito: [] }, { api_key: [] }], [{ cognito: [] }]]\n"
    "- !If [UseApiKey, [{ api_key: [] }], []]"
)


class Raw:
    """YAML written as is (a tag, an alias); lines after the first are indented under the key."""

    def __init__(self, text: str) -> None:
        self.text = text


class _SamWriter:
    """Writes the definition as block YAML, the deployment's conditions and values in place."""

    def __init__(self) -> None:
        self.anchored: set[str] = set()

    def convert(self, value: Any, path: tuple[str, ...] = ()) -> Any:
        if path == ("components", "securitySchemes"):
            schemes = self.convert(value["cognito"], (*path, "cognito"))
            api_key = self.block(value["api_key"])
            cognito = self.block(schemes)
            return Raw(
                "!If\n- UseCognito\n- api_key: &api_key_scheme\n"
                + _indent(api_key, 4)
                + "  cognito:\n"
                + _indent(cognito, 4)
                + "- api_key: *api_key_scheme"
            )
        if isinstance(value, dict):
            return {key: self.convert(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            if path[-1:] == ("security",) and value:
                return self.once("signed_in_security", SIGNED_IN_SECURITY)
            return [self.convert(item, path) for item in value]
        if isinstance(value, str) and value in SAM_VALUES:
            return Raw(SAM_VALUES[value])
        if isinstance(value, str) and "${" in value:
            text = value
            for name, substitution in SAM_SUBSTITUTIONS.items():
                text = text.replace("${" + name + "}", substitution)
            return Raw("!Sub " + json.dumps(text))
        return value

    def once(self, anchor: str, text: str) -> Raw:
        """`text` with an anchor the first time, an alias to it after."""
        if anchor in self.anchored:
            return Raw(f"*{anchor}")
        self.anchored.add(anchor)
        return Raw(f"&{anchor} {text}")

    def block(self, mapping: dict[str, Any]) -> str:
        """A mapping as block YAML, two spaces a level."""
        lines = []
        for key, item in mapping.items():
            name = json.dumps(key) if key.startswith(("/", "$")) else key
            if isinstance(item, Raw):
                first, _, more = item.text.partition("\n")
                lines.append(f"{name}: {first}\n" + (_indent(more + "\n", 2) if more else ""))
            elif isinstance(item, dict):
                lines.append(f"{name}:\n" + _indent(self.block(item), 2) if item else f"{name}: {{}}\n")
            elif isinstance(item, list):
                lines.append(f"{name}: [" + ", ".join(_flow(i) for i in item) + "]\n")
            else:
                lines.append(f"{name}: {_scalar(item)}\n")
        return "".join(lines)


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(keepends=True))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def sam_definition_body(definition: dict[str, Any]) -> str:
    """The DefinitionBody block of template.yaml, at the indentation of RecordsApi's properties."""
    writer = _SamWriter()
    return _indent(writer.block({"DefinitionBody": writer.convert(definition)}), 6)


def render_template(template: str) -> str:
    """template.yaml with its DefinitionBody block written from openapi/apigateway.json."""
    if BEGIN not in template or END not in template:
        raise SystemExit(f"{TEMPLATE_FILE.name}: the generated DefinitionBody's markers are missing")
    head, rest = template.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    definition = json.loads(render_definition())
    note = "      # route declarations in src/serverless_crud/api/, never this block.\n"
    return head + BEGIN + note + sam_definition_body(definition) + END + tail


# -- docs ------------------------------------------------------------------------------------------
def render_fields_doc() -> str:
    """docs/record-fields.md: one row per field, from the declarations."""
    from serverless_crud.models.fields import fields, schemas

    record = schemas()["Record"]["properties"]
    request = schemas()["RecordCreate"]["properties"]
    rows = [
        "| field | label | type | rules | search | sort | list | CSV |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in fields():
        prop = record[spec.name]
        # What a request may send (the key's rules) where there is one, else the stored field's.
        rules = (request.get(spec.name) or prop).get("description") or prop.get("description", "")
        rows.append(
            f"| `{spec.name}` | {spec.label} | {_type(prop)} | {rules} | {spec.search or ''} | "
            f"{spec.sort or ''} | {'yes' if spec.listed else ''} | {'yes' if spec.csv else ''} |"
        )
    return (
        "<!-- Generated from the record model (src/serverless_crud/models/record.py) by `make schemas`. -->\n"
        "# The record's fields\n\n"
        "Each field as the model declares it: its rules, and how the product uses it (see "
        "[Make it yours](make-it-yours.md)). `search`: `q` finds its words (`digits`: also its digits "
        "alone); `sort`: `sort=<field>` orders by it; `list`: a column of the UI's list; `CSV`: a column of "
        "exports and imports. Server fields are set by the server and ignored in requests and imports.\n\n"
        + "\n".join(rows)
        + "\n"
    )


def _type(prop: dict[str, Any]) -> str:
    branches = [b for b in prop.get("anyOf", ()) if b != {"type": "null"}]
    value = branches[0] if branches else prop
    kind = {"array": "list of strings", "integer": "integer", "number": "number", "boolean": "boolean"}.get(
        value.get("type"), "string"
    )
    return f"{kind} or null" if branches else kind


def _generated() -> dict[Path, Callable[[str], str]]:
    """Every generated file and how to make it (from its current text, for a file generated in part)."""
    from serverless_crud.models.fields import SCHEMAS_FILE

    return {
        SCHEMAS_FILE: lambda _: render(),
        DEFINITION_FILE: lambda _: render_definition(),
        TEMPLATE_FILE: render_template,
        FIELDS_DOC: lambda _: render_fields_doc(),
    }


def stale() -> list[Path]:
    """The generated files whose content is not what the model and the routes make."""
    found = []
    for path, make in _generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if make(current) != current:
            found.append(path)
    return found


def main(argv: list[str]) -> int:
    """Write the generated files (or, with --check, name the stale ones)."""
    if "--check" in argv:
        behind = stale()
        for path in behind:
            print(f"{path.relative_to(ROOT)} is stale: run `make schemas`", file=sys.stderr)
        return 1 if behind else 0
    for path, make in _generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        wanted = make(current)
        if wanted != current:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
