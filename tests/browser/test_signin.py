"""Signing in to the web UI (AuthMode=cognito, as `make run` serves it), in Chromium: the sign-in page,
a user's own records, creating one, signing out, a session that has ended, the admin's view, and axe
on the new pages."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import local_server
from tests.browser.test_accessibility import violations

PASSWORD = "Br0wser-Tests-Pass!"


@dataclass
class SignedIn:
    """A signed-in server: its UI, its user pool, and two users with a record each."""

    url: str
    aws: str
    state: Path
    alice: str
    bob: str

    @property
    def ids(self) -> dict[str, str]:
        return json.loads((self.state / "cognito-idp" / "local.json").read_text())  # type: ignore[no-any-return]

    @property
    def admin_password(self) -> str:
        return (self.state / "cognito-idp" / "admin-password").read_text().strip()

    def cognito(self) -> Any:
        return boto3.client(
            "cognito-idp",
            endpoint_url=self.aws,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )

    def add_user(self, email: str) -> None:
        pool = self.ids["user_pool_id"]
        self.cognito().admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        self.cognito().admin_set_user_password(
            UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True
        )

    def token(self, email: str, password: str = PASSWORD) -> str:
        return str(
            self.cognito().initiate_auth(
                ClientId=self.ids["client_id"],
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )["AuthenticationResult"]["IdToken"]
        )

    def create(self, email: str, name: str) -> None:
        request = urllib.request.Request(
            self.url + "records",
            data=json.dumps({"email": email, "name": name}).encode(),
            headers={"Content-Type": "application/json", "Authorization": self.token(email)},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedIn]:
    state = tmp_path_factory.mktemp("signed-in")
    with local_server(state) as (url, aws):
        run = uuid.uuid4().hex[:8]
        server = SignedIn(url, aws, state, f"alice-{run}@example.com", f"bob-{run}@example.com")
        for email in (server.alice, server.bob):
            server.add_user(email)
            server.create(email, f"Record of {email.split('@')[0]}")
        yield server


@pytest.fixture
def signin_page(browser: Any, signed_in: SignedIn, console: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=signed_in.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    context.on("page", console.watch)
    # Chromium logs every refused fetch (Cognito's 400 for a wrong password, the API's 401s).
    console.allow(r"Failed to load resource: the server responded with a status of 4\d\d")
    try:
        yield context.new_page()
    finally:
        context.close()
    assert console.unexpected() == []


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_page_sends_you_to_sign_in_then_back(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("edit.html")
    expect(signin_page).to_have_url(f"{signed_in.url}signin.html?next=edit.html")
    sign_in(signin_page, signed_in.alice)
    expect(signin_page).to_have_url(f"{signed_in.url}edit.html")
    # A user creates under their own email: the form starts with it.
    expect(signin_page.get_by_label("email", exact=False).first).to_have_value(signed_in.alice)


def test_you_see_only_your_records_and_create_one(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, signed_in.alice)
    expect(signin_page.get_by_role("heading", name="Your records")).to_be_visible()
    expect(signin_page.locator(".account-email")).to_have_text(signed_in.alice)
    rows = signin_page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(signed_in.alice)
    expect(signin_page.locator("table")).not_to_contain_text(signed_in.bob)
    expect(signin_page.locator("#filter")).to_be_hidden()
    signin_page.goto("edit.html")
    signin_page.get_by_label("name", exact=False).first.fill("Made in the browser")
    signin_page.get_by_role("button", name="Create record").click()
    expect(signin_page).to_have_url(re.compile(r"success\.html"))
    signin_page.goto("./")
    expect(signin_page.locator("table tbody tr")).to_have_count(2)
    expect(signin_page.locator("table")).to_contain_text("Made in the browser")


def test_the_view_page_says_who_created_a_record_by_email(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, signed_in.bob)
    signin_page.locator("table tbody tr a").first.click()
    sub = json.loads(base64.urlsafe_b64decode(signed_in.token(signed_in.bob).split(".")[1] + "=="))["sub"]
    for field in ("created_by", "updated_by"):
        person = signin_page.locator(f'[data-field="{field}"] dd')
        expect(person).to_have_text(signed_in.bob)
        expect(person.locator("span")).to_have_attribute("title", f"User id {sub}")
    # The email fields are shown in the people's rows, not again on their own.
    expect(signin_page.locator('[data-field="created_by_email"]')).to_have_count(0)


def test_the_admin_sees_everyones_records(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, "admin@example.com", signed_in.admin_password)
    expect(signin_page.get_by_role("heading", name="All records")).to_be_visible()
    expect(signin_page.locator(".account-email")).to_have_text("admin@example.com")
    expect(signin_page.locator("#account .badge")).to_have_text("admin")
    expect(signin_page.locator("table")).to_contain_text(signed_in.alice)
    expect(signin_page.locator("table")).to_contain_text(signed_in.bob)


def test_a_wrong_password_is_said_plainly(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, signed_in.alice, "Not-The-Passw0rd!")
    expect(signin_page.get_by_role("alert")).to_contain_text("The email or the password is not right.")
    expect(signin_page.get_by_label("Password")).to_have_value("")


def test_a_password_never_goes_into_an_address(browser: Any, signed_in: SignedIn) -> None:
    """Before the page's script runs (or without JavaScript) the form cannot be sent by the browser
    itself, which would put the password in the address, the history and the server's logs."""
    context = browser.new_context(base_url=signed_in.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("signin.html?next=edit.html")
        expect(page.get_by_role("button", name="Sign in")).to_be_disabled()
        page.get_by_label("Email").fill(signed_in.alice)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        page.get_by_label("Email").press("Enter")
        expect(page).to_have_url(f"{signed_in.url}signin.html?next=edit.html")
        assert page.locator("form#signin").get_attribute("method") == "post"
    finally:
        context.close()


def test_sign_out_ends_the_session(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, signed_in.alice)
    signin_page.get_by_role("button", name="Sign out").click()
    notice = signin_page.get_by_role("status").filter(has_text="You have signed out")
    expect(notice).to_be_visible()
    expect(notice).to_have_class(re.compile(r"\balert-success\b"))  # a notice, not an error
    expect(signin_page.get_by_role("alert")).to_have_count(0)
    # Only the password is left to type.
    expect(signin_page.get_by_label("Email")).to_have_value(signed_in.alice)
    expect(signin_page.get_by_label("Password")).to_be_focused()
    assert signin_page.evaluate("() => sessionStorage.getItem('serverless-crud.refresh-token')") is None
    signin_page.goto("./")
    expect(signin_page).to_have_url(re.compile(r"signin\.html"))


def test_an_ended_session_says_so(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, signed_in.alice)
    expect(signin_page.get_by_role("heading", name="Your records")).to_be_visible()
    # The refresh token no longer works (expired, or revoked elsewhere): the next page cannot refresh.
    signin_page.evaluate(
        "() => sessionStorage.setItem('serverless-crud.refresh-token', 'expired-or-revoked')"
    )
    signin_page.goto("view.html?email=x%40example.com&id=1")
    expect(signin_page.get_by_role("status").filter(has_text="Your session has ended")).to_be_visible()
    expect(signin_page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(signin_page.get_by_label("Email")).to_have_value(signed_in.alice)
    assert "next=view.html" in signin_page.url
    sign_in(signin_page, signed_in.alice)
    expect(signin_page).to_have_url(re.compile(r"/view\.html"))


def test_tokens_are_kept_as_the_guidance_says(signin_page: Page, signed_in: SignedIn) -> None:
    """ID and access tokens in memory only; the refresh token in this tab's sessionStorage; no cookies."""
    signin_page.goto("signin.html")
    sign_in(signin_page, signed_in.alice)
    expect(signin_page.get_by_role("heading", name="Your records")).to_be_visible()
    stored = signin_page.evaluate("() => ({local: {...localStorage}, session: {...sessionStorage}})")
    assert stored["local"] == {}
    # The refresh token, and the email (to fill in the sign-in form again: not a secret).
    assert sorted(stored["session"]) == ["serverless-crud.email", "serverless-crud.refresh-token"]
    assert stored["session"]["serverless-crud.email"] == signed_in.alice
    assert not stored["session"]["serverless-crud.refresh-token"].startswith("eyJ")  # not a JWT
    assert signin_page.context.cookies() == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "where", ["signin.html", "signin.html?ended=1", "signin.html?signed-out=1", "signed-in"]
)
def test_the_sign_in_pages_pass_axe(browser: Any, signed_in: SignedIn, where: str, scheme: str) -> None:
    context = browser.new_context(base_url=signed_in.url, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto("signin.html" if where == "signed-in" else where)
        if where == "signed-in":
            sign_in(page, signed_in.alice)
            expect(page.locator(".account-email")).to_be_visible()
            expect(page.locator("table tbody tr").first).to_be_visible()
        else:
            expect(page.get_by_label("Email")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert violations(page) == []
    finally:
        context.close()


def test_a_user_may_erase_only_their_own_records(signin_page: Page, signed_in: SignedIn) -> None:
    carol = f"carol-{uuid.uuid4().hex[:8]}@example.com"
    signed_in.add_user(carol)
    for n in range(2):
        signed_in.create(carol, f"Carol's {n}")
    signin_page.goto("signin.html")
    sign_in(signin_page, carol)
    expect(signin_page.locator("table tbody tr")).to_have_count(2)
    expect(signin_page.get_by_role("button", name=re.compile("Erase all records of"))).to_have_count(0)
    signin_page.get_by_role("button", name="Erase all my records").click()
    dialog = signin_page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"This erases all 2 records of {carol}")
    dialog.get_by_role("button", name="Erase 2 records").click()
    expect(signin_page.locator("table tbody tr")).to_have_count(0, timeout=60_000)
    # Nobody else's records went.
    request = urllib.request.Request(
        signed_in.url + "records", headers={"Authorization": signed_in.token(signed_in.bob)}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["items"] != []


def test_the_admin_may_erase_the_filtered_email(signin_page: Page, signed_in: SignedIn) -> None:
    signin_page.goto("signin.html")
    sign_in(signin_page, "admin@example.com", signed_in.admin_password)
    expect(signin_page.get_by_role("heading", name="All records")).to_be_visible()
    # No email chosen: nothing to erase (an erasure is of one email's records).
    expect(signin_page.get_by_role("button", name=re.compile("^Erase"))).to_be_hidden()
    signin_page.goto(f"./?email={signed_in.bob}")
    signin_page.get_by_role("button", name=f"Erase all records of {signed_in.bob}").click()
    dialog = signin_page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"This erases all 1 records of {signed_in.bob}")
    dialog.get_by_role("button", name="Cancel").click()
    expect(signin_page.locator("table")).to_contain_text(signed_in.bob)
