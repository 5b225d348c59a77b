"""Every command the documentation shows works when pasted: each page's shell blocks run in order
against the server `make run` starts (signed in, its own state directory); blocks that need an AWS
account are checked as far as this machine can (syntax, make targets, CLI sub-commands)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, start_server
from tests.support.docs import NOT_RUN_HERE, PAGES, SHELL, Block, blocks, command_lines

pytestmark = pytest.mark.runs_for(50)

BIN = ROOT / ".venv" / "bin"
RUNNABLE = [page for page in PAGES if any(block.runs_here for block in blocks(page))]


def _api_page(stdout: str) -> None:
    statuses = re.findall(r"HTTP/1\.[01] (\d{3}) ", stdout)
    # create, idempotent create (its replay shows only the replay header), read, 304, replace,
    # patch, If-None-Match: * (412), delete, preflight
    assert statuses == ["201", "201", "200", "304", "200", "200", "412", "204", "204"], stdout[-3000:]
    assert re.search(r"(?i)idempotent-replayed: true", stdout)
    assert re.search(r"serverless-crud$", stdout, re.M)  # the OpenAPI document's title (after /health)
    assert '"next_cursor"' in stdout and '"status":"ok"' in stdout


def _jobs_page(stdout: str) -> None:
    # the import reported its rejected line; the CLI's exit status said so
    assert '"line": 3' in stdout and "exit status 3" in stdout, stdout[-3000:]


#: What a page's commands must print besides exiting 0, by page.
EXPECTED: dict[str, Callable[[str], None]] = {"docs/api.md": _api_page, "docs/jobs.md": _jobs_page}


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as `make run` serves it (AuthMode=cognito), with its own state directory."""
    server = start_server(tmp_path_factory.mktemp("docs"), signed_in=True)
    server.wait_for_output("States ready")  # the pages' jobs start once the state machines exist
    yield server
    server.stop()


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_commands_of_each_page_work_when_pasted_in_order(docs_server: Server, page: Path, tmp_path):
    assert shutil.which("jq") and shutil.which("curl"), "make install installs jq and curl"
    state = docs_server.state_dir
    script = "\n".join(block.text for block in blocks(page) if block.runs_here)
    # The pages speak of `make run`'s defaults; this server has free ports, its own state and scratch.
    places = {
        "http://127.0.0.1:3000": docs_server.url,
        "http://127.0.0.1:3001": docs_server.aws,
        ".local/": f"{state}/",
        "/tmp/": f"{tmp_path}/",
    }
    script = re.sub("|".join(map(re.escape, places)), lambda match: places[match.group(0)], script)
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
        env={
            **os.environ,
            "STATE_DIR": state,  # where the CLI finds the local admin, as `make run` keeps it
            "SERVERLESS_CRUD_API": docs_server.url,  # the CLI's default, http://127.0.0.1:3000, on `make run`
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        },
    )
    assert done.returncode == 0, f"{page}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    relative = str(page.relative_to(ROOT))
    if relative in EXPECTED:
        EXPECTED[relative](done.stdout)


def _shell_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page) if block.language in SHELL]


def test_a_shell_block_not_run_here_says_why():
    """A titled shell block is one the docs test does not run: its title must be one of the reasons."""
    for block in _shell_blocks():
        if block.title is not None:
            assert block.title in NOT_RUN_HERE, f"{block.where}: title {block.title!r} is not a reason"


def _make_targets() -> set[str]:
    database = subprocess.run(
        ["make", "-pRrq", "-f", "Makefile"], capture_output=True, text=True, check=False, cwd=ROOT
    ).stdout
    return set(re.findall(r"^([A-Za-z0-9][\w.-]*):", database, re.M))


def test_the_blocks_not_run_here_name_real_targets_and_commands():
    """What can be checked without AWS: the syntax, the make targets, the SAM and CLI sub-commands."""
    targets = _make_targets()
    for block in _shell_blocks():
        if block.runs_here:
            continue
        syntax = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True, check=False)
        assert syntax.returncode == 0, f"{block.where}: {syntax.stderr}"
        for words in command_lines(block.text):
            program = Path(words[0]).name
            if program == "make":
                named = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
                assert set(named) <= targets, f"{block.where}: make {named} is not a target"
            elif program in ("sam", "serverless-crud") and len(words) > 1:
                executable = BIN / program
                helped = subprocess.run(
                    [str(executable), words[1], "--help"], capture_output=True, text=True, check=False
                )
                assert helped.returncode == 0, f"{block.where}: {program} {words[1]}: {helped.stderr}"


def test_readme_is_short_and_maps_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "index.md":
            assert f"(docs/{page.name})" in readme, f"README's map of the docs lacks {page.name}"
