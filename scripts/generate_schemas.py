"""Write src/serverless_crud/models/schemas.json from the pydantic record model (`make schemas`)."""

from __future__ import annotations

import json
import sys

from serverless_crud.models.record import schemas
from serverless_crud.models.fields import SCHEMAS_FILE


def render() -> str:
    """The file's content: the model's schemas, stable key order, one trailing newline."""
    return json.dumps(schemas(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMAS_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMAS_FILE}", file=sys.stderr)
