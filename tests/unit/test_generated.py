"""The generated files are what the record model and the route declarations make (`make schemas`)."""

from __future__ import annotations

import json
import re

from scripts.generate_schemas import DEFINITION_FILE, render_definition, stale

from serverless_crud.api.apigateway import PLACEHOLDERS


def test_every_generated_file_is_current():
    assert [str(p) for p in stale()] == [], "run `make schemas` after changing the model or a route"


def test_the_api_gateway_definition_has_only_its_placeholders():
    """Terraform's templatefile substitutes `${name}`: every one the file uses is documented, and
    nothing else in it looks like a template directive."""
    text = DEFINITION_FILE.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{([^}]*)\}", text)) == set(PLACEHOLDERS)
    assert "%{" not in text
    rendered = text
    for name in PLACEHOLDERS:
        rendered = rendered.replace("${" + name + "}", f"value-of-{name}")
    document = json.loads(rendered)
    assert document["openapi"].startswith("3.0")
    assert render_definition() == text
