"""Write the site header (ui/templates/header.html) into every page of ui/static/ (`make pages`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from serverless_crud.api.site_header import with_header


def main() -> None:
    static = Path(str(resources.files("serverless_crud").joinpath("ui", "static")))
    for page in sorted(static.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        updated = with_header(text, page.name)
        if updated != text:
            page.write_text(updated, encoding="utf-8")
            print(f"wrote {page}")


if __name__ == "__main__":
    main()
