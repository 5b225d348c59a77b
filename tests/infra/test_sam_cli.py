"""The real AWS SAM CLI (pinned in requirements/aws-tools.txt, `.venv/bin/sam`), offline: no AWS
account, no Docker. `sam validate --lint` and `sam build` of the whole template, as a user runs them
after `make install`; tests/infra/test_package.py opens the artifacts it builds."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.processes import run

from .conftest import ROOT, TEMPLATE_PATH, load_template
from .sam import SAM, makefile_functions, sam_environment


def test_sam_validate_lint_accepts_the_template() -> None:
    output = run([str(SAM), "validate", "--lint", "--template", str(TEMPLATE_PATH)], env=sam_environment())
    assert f"{TEMPLATE_PATH} is a valid SAM Template" in output


def test_sam_build_builds_an_artifact_for_every_function(sam_build: Path) -> None:
    built = yaml.safe_load((sam_build / "template.yaml").read_text())
    names = makefile_functions(load_template(TEMPLATE_PATH.read_text()))
    assert names == {"RecordsFunction", "TasksFunction"} | names
    for name in names:
        assert built["Resources"][name]["Properties"]["CodeUri"] == name
        assert (sam_build / name / "serverless_crud" / "handler.py").is_file()
        assert (sam_build / name / "serverless_crud" / "tasks.py").is_file()


def test_the_functions_that_share_the_package_get_the_same_files(sam_build: Path) -> None:
    """One recipe, one package: every function's artifact is the same set of identical files."""
    names = sorted(makefile_functions(load_template(TEMPLATE_PATH.read_text())))

    def contents(name: str) -> dict[str, bytes]:
        root = sam_build / name
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    first = contents(names[0])
    for name in names[1:]:
        assert contents(name) == first, name


def test_the_built_template_deploys_the_state_machines_definitions(sam_build: Path) -> None:
    built = (sam_build / "template.yaml").read_text()
    for definition in (ROOT / "statemachines").glob("*.asl.json"):
        assert definition.name in built
