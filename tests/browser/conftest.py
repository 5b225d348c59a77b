"""Browser tests: the web UI in Chromium (Playwright), against `serverless-crud serve`.

One browser for the session, a fresh context (cookies, storage, cache) for every test. The server is
started once, on a free port, with a fresh state directory. `UI_BASE_URL` points the tests at a
server that is already running instead (a deployed stage, say): every test makes its own records
under its own email address, so they need no empty table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Chromium features the tests have no use for: a spare renderer process kept ready for the next page,
#: and the address bar's pop-up drawn as a web page in every window. With them, Chromium took twice
#: the CPU for the same pages (two thirds of this layer's CPU is Chromium's).
UNUSED_FEATURES = ("SpareRendererForSitePerProcess", "WebUIOmniboxPopup", "WebUIOmniboxAimPopup")
#: Browser context options by device.
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
    "narrow": {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True},
}
SERVER_START_SECONDS = 60
ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives the browser."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def find_chromium() -> str | None:
    """Debian's Chromium (or $CHROMIUM); Playwright's own browser download is not used."""
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    candidates += [shutil.which("chromium-browser"), shutil.which("google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"serverless-crud serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    pytest.fail(f"the server did not answer at {url} in {SERVER_START_SECONDS} s:\n{log.read_text()}")


@contextmanager
def local_server(state: Path, *extra: str) -> Iterator[tuple[str, str]]:
    """`serverless-crud serve` on free ports with a fresh `state`: (the UI's base URL, the AWS endpoint)."""
    port, aws_port = _free_port(), _free_port()
    log = state.parent / f"serve-{state.name}.log"
    command = Path(sys.executable).with_name("serverless-crud")
    args = [str(command), "serve", "--port", str(port), "--state-dir", str(state), "--fresh", *extra]
    args += ["--template", str(ROOT / "template.yaml"), "--dynamodb-port", str(aws_port), "--no-fsync"]
    env = {**os.environ, "ALLOWED_ORIGINS": "*"}
    with log.open("wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield url, f"http://127.0.0.1:{aws_port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The UI's base URL (ending in /): a local server started for the session, or UI_BASE_URL."""
    external = os.environ.get("UI_BASE_URL")
    if external:
        yield external.rstrip("/") + "/"
        return
    # The open mode: sign-in has tests of its own (test_signin.py).
    with local_server(tmp_path_factory.mktemp("state"), "--parameter-overrides", "AuthMode=none") as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the whole session, drawing with the pinned fonts only (tests/browser/fonts.py);
    the tests skip (loudly) only when no Chromium is installed."""
    executable = find_chromium()
    if executable is None:
        message = (
            "NO CHROMIUM FOUND: the browser tests are SKIPPED. Install it (`make install` does: "
            "apt-get install -y chromium) or set CHROMIUM to its path."
        )
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    from tests.browser import fonts

    # Every assertion of the layer waits up to 10 s: a page drawn while the other lane computes
    # (make test) can take more than Playwright's default 5 s.
    expect.set_options(timeout=10_000)

    if absent := fonts.missing():
        pytest.fail(f"fonts of the browser tests are missing (make install installs them): {absent}")
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts.fontconfig_file(tmp_path_factory.mktemp("fonts")))}
    with sync_playwright() as playwright:
        chromium = launch_without_unused_features(playwright, executable, env)
        yield chromium
        chromium.close()


def launch_without_unused_features(playwright: Any, executable: str, env: dict[str, str]) -> Any:
    """Chromium with CHROMIUM_ARGS, and UNUSED_FEATURES added to the features Playwright disables.

    Chromium reads only the last `--disable-features`, so the list goes in whole: Playwright's, read
    from a first launch's command line (chrome://version shows it), and ours.
    """
    probe = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, env=env)
    try:
        page = probe.new_page()
        page.goto("chrome://version")
        command_line = page.locator("#command_line").inner_text()
    finally:
        probe.close()
    playwrights = re.findall(r"--disable-features=(\S+)", command_line)[-1:]
    features = ",".join([*playwrights, *UNUSED_FEATURES])
    return playwright.chromium.launch(
        executable_path=executable, args=[*CHROMIUM_ARGS, f"--disable-features={features}"], env=env
    )


class Console:
    """Console errors and uncaught exceptions of every page in a context; some may be expected."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def watch(self, page: Any) -> None:
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def allow(self, pattern: str) -> None:
        """Expect errors matching `pattern` (e.g. Chromium logs every 4xx fetch response)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(p.search(error) for p in self.allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def open_context(browser: Any, base_url: str, console: Console) -> Iterator[Any]:
    """Open browser contexts: `with open_context("phone", color_scheme="dark") as context:`.

    At the end of the test, any console error of their pages that the test did not allow fails it.
    """

    @contextmanager
    def open_one(device: str = "desktop", **options: Any) -> Iterator[Any]:
        context = browser.new_context(**{"base_url": base_url, **DEVICES[device], **options})
        context.set_default_timeout(15_000)
        context.on("page", console.watch)
        try:
            yield context
        finally:
            context.close()

    yield open_one
    assert console.unexpected() == [], "the pages logged errors to the console"


@pytest.fixture
def context(open_context: Any) -> Iterator[Any]:
    """A fresh desktop browser context (1280 by 800)."""
    with open_context("desktop") as opened:
        yield opened


@pytest.fixture
def mobile_context(open_context: Any) -> Iterator[Any]:
    """A fresh phone: 375 by 812 CSS pixels, touch, the viewport meta tag honoured."""
    with open_context("phone") as opened:
        yield opened


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


class Api:
    """The records API over HTTP, for arranging data and checking results (numbers stay exact)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, (json.loads(text, parse_float=Decimal) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, None

    def create(self, **fields: Any) -> dict[str, Any]:
        status, record = self.request("POST", "records", fields)
        assert status == 201, f"could not create {fields}: {status}"
        return dict(record)

    def create_raw(self, text: str) -> dict[str, Any]:
        status, record = self.request("POST", "records", text)
        assert status == 201, f"could not create {text}: {status}"
        return dict(record)

    def get(self, email: str, record_id: int) -> tuple[int, Any]:
        return self.request("GET", f"records/{quote(email, safe='')}/{record_id}")


@pytest.fixture(scope="session")
def api(base_url: str) -> Api:
    """The records API of the server under test (overrides the handler-level fixture here)."""
    return Api(base_url)


@pytest.fixture
def email() -> str:
    """An email address no other test uses: each test owns its partition."""
    return f"ui-{uuid.uuid4().hex[:12]}@example.com"
