"""Realistic records for the browser tests: the longest valid value of every field, right-to-left
text, emoji, and ordinary people, 100 records in all, the same on every run.

`RECORDS` is the fixture set (plain JSON values; `amount` as number text so every digit reaches the
server). The extremes come first, so that they are on the list's first page in its default order.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

#: The record rules' limits (the model's: tests/unit keeps them honest).
NAME_MAX, PHONE_MAX, NOTES_MAX, TAGS_MAX, TAG_MAX, EMAIL_MAX = 200, 32, 4000, 20, 50, 254


def _longest_email() -> str:
    """A valid address of exactly 254 characters: a 64-character local part, labels of at most 63."""
    local = "maximilian.alexander-von.hohenzollern-sigmaringen.archive.team01"
    first = "accounts-payable-and-receivable-department-of-the-north-eastern"
    second = "regional-distribution-centre-for-wholesale-and-retail-operations"[:63]
    tail = ".example.com"
    third = "long-established-family-business-holdings-group-ltd"[
        : EMAIL_MAX - 64 - 1 - 63 - 1 - 63 - 1 - len(tail)
    ]
    address = f"{local}@{first}.{second}.{third}{tail}"
    assert len(local) == 64 and len(address) == EMAIL_MAX, len(address)
    return address


LONGEST_EMAIL = _longest_email()
#: One unbroken word of 200 characters, nothing to wrap at (a real surname, cut to the limit).
LONGEST_NAME = (
    "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaftschaferswessenschafewaren"
    "wohlgepflegeundsorgfaltigkeitbeschutzenvonangreifendurchihrraubgierigfeindewelchevoralternzwolf"
    "tausendjahresvorandieerscheinen"
)[:NAME_MAX]
LONGEST_TAGS = [
    f"{n:02d}-wholesale-distribution-partner-north-east-region"[:TAG_MAX] for n in range(TAGS_MAX)
]
LONGEST_NOTES = (
    "Called on Monday about the renewal; they want the quarterly invoice split by cost centre. "
    "Follow up with procurement before the end of the month.\n"
) * 40
LONGEST_NOTES = LONGEST_NOTES[:NOTES_MAX]
LONGEST_PHONE = "+44 (0)20 7946 0000 ext. 12345678"[:PHONE_MAX]
#: 38 significant digits, negative, with a fraction: the widest amount.
LONGEST_AMOUNT = "-1234567890123456789012345678.9012345678"

EXTREMES: list[dict[str, Any]] = [
    {
        "email": LONGEST_EMAIL,
        "id": 9007199254740991,  # the largest id
        "name": LONGEST_NAME,
        "phone": LONGEST_PHONE,
        "notes": LONGEST_NOTES,
        "tags": LONGEST_TAGS,
        "amount": LONGEST_AMOUNT,
        "active": False,
    },
    {
        # The ordinary data: a 90-character name with spaces and a 60-character email.
        "email": "procurement.department.northwest-region@consolidated-example.org",
        "name": "Consolidated Wholesale Distribution Partners of the Greater Northwestern Region Limited",
        "tags": ["wholesale", "priority", "net-30", "eu", "manufacturing", "key-account"],
        "amount": "98765.43",
        "notes": "Prefers email. Invoices to the Leeds office.",
    },
    {
        "email": "khwarizmi@example.com",
        "name": "مؤسسة الخوارزمي للبرمجيات والحلول الرقمية المتكاملة",
        "phone": "+966 11 234 5678",
        "tags": ["عميل مميز", "الرياض", "برمجيات"],
        "notes": "يفضل التواصل عبر البريد الإلكتروني.\nالفواتير ترسل في بداية كل شهر.",  # noqa: RUF001
        "amount": "1500.75",
    },
    {
        "email": "sarah.levi@example.co.il",
        "name": "שרה לוי-כהן, יועצת מס ראשית",
        "tags": ["לקוחה", "תל אביב"],
        "amount": "320",
    },
    {
        "email": "party@example.com",
        "name": "🎉 Party Supplies & Co. 🎈 — balloons, cakes 🎂 and more",
        "tags": ["🎂 birthdays", "vip ⭐", "events"],
        "notes": "Loves emoji 😀👍🏽. Deliveries before 9 am 🚚.",
        "amount": "42",
    },
    {
        "email": "tokyo@example.jp",
        "name": "株式会社サンプル東京本社営業部第一課国際取引担当チーム",
        "tags": ["日本", "東京"],
        "amount": "1000000",
    },
    {
        "email": "many.tags@example.com",
        "name": "Twenty Tags",
        "tags": [f"tag-{n}" for n in range(1, TAGS_MAX + 1)],
        "amount": "0.1",
    },
    {
        "email": "a@b.co",
        "name": "X",
        "active": False,
    },
]

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "John", "Radia"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen"]
TAGS = [
    "retail",
    "wholesale",
    "priority",
    "net-30",
    "eu",
    "us",
    "newsletter",
    "key-account",
    "trial",
    "partner",
]
DOMAINS = ["example.com", "example.org", "mail.example.net"]


def _ordinary(n: int) -> dict[str, Any]:
    first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
    record: dict[str, Any] = {
        "email": f"{first.lower()}.{last.lower()}@{DOMAINS[n % len(DOMAINS)]}",
        "name": f"{first} {last}",
        "tags": [TAGS[(n + k) % len(TAGS)] for k in range(n % 4)],
        "amount": f"{(n * 1234.5) % 99999:.2f}",
        "active": n % 5 != 0,
    }
    if n % 3 == 0:
        record["phone"] = f"+1 555 01{n:02d}"
    if n % 4 == 1:
        record["notes"] = f"Met at the spring trade fair.\nCall back about order {1000 + n}."
    return record


#: The fixture set, every record with its id: the pages look the same on every run.
RECORDS: list[dict[str, Any]] = [
    {"id": 1001 + n, **record}
    for n, record in enumerate(EXTREMES + [_ordinary(n) for n in range(100 - len(EXTREMES))])
]


def body(record: dict[str, Any]) -> str:
    """A record as a request body, its amount written as number text (every digit kept)."""
    fields = [
        f"{json.dumps(key)}: {value if key == 'amount' else json.dumps(value, ensure_ascii=False)}"
        for key, value in record.items()
    ]
    return "{" + ", ".join(fields) + "}"


#: Who is signed in on the realistic site: an admin (sees every record) with a long address, so the
#: header holds one too; the screenshots use the local admin's short one.
LOCAL_ADMIN = "admin@example.com"
LONG_ADMIN = "customer.success.operations.lead.emea-region@consolidated-example.org"
PASSWORD = "Realistic-Data-Pass-1!"
REFRESH_KEY = "serverless-crud.refresh-token"


@dataclass
class RealisticSite:
    """A local server (sign-in on) holding RECORDS, and refresh tokens of its admins."""

    url: str
    aws: str
    state: Path
    #: email → refresh token, for a browser context to start signed in (see `start_signed_in`).
    refresh_tokens: dict[str, str]
    #: When the last record was written (every record was written in the seconds before).
    loaded_at: datetime

    def record(self, index: int) -> dict[str, Any]:
        """RECORDS[index], as stored (the email lower-cased)."""
        record = RECORDS[index]
        return {**record, "email": record["email"].lower()}

    def key_query(self, index: int) -> str:
        record = self.record(index)
        return f"email={quote(record['email'])}&id={record['id']}"


def _cognito(aws: str) -> Any:
    import boto3

    return boto3.client(
        "cognito-idp",
        endpoint_url=aws,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def _sign_in(client: Any, ids: dict[str, str], email: str, password: str) -> dict[str, str]:
    answer = client.initiate_auth(
        ClientId=ids["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]  # type: ignore[no-any-return]


@contextmanager
def realistic_site(state: Path) -> Iterator[RealisticSite]:
    """Start the server, add the long-address admin, load RECORDS through the API as the admin."""
    from tests.browser.conftest import local_server

    with local_server(state) as (url, aws):
        ids = json.loads((state / "cognito-idp" / "local.json").read_text())
        client = _cognito(aws)
        pool = ids["user_pool_id"]
        client.admin_create_user(
            UserPoolId=pool,
            Username=LONG_ADMIN,
            UserAttributes=[
                {"Name": "email", "Value": LONG_ADMIN},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        client.admin_set_user_password(
            UserPoolId=pool, Username=LONG_ADMIN, Password=PASSWORD, Permanent=True
        )
        client.admin_add_user_to_group(UserPoolId=pool, Username=LONG_ADMIN, GroupName="admin")
        local_admin = (state / "cognito-idp" / "admin-password").read_text().strip()
        tokens = {
            LONG_ADMIN: _sign_in(client, ids, LONG_ADMIN, PASSWORD),
            LOCAL_ADMIN: _sign_in(client, ids, LOCAL_ADMIN, local_admin),
        }
        for record in RECORDS:
            request = urllib.request.Request(
                url + "records",
                data=body(record).encode(),
                headers={"Content-Type": "application/json", "Authorization": tokens[LOCAL_ADMIN]["IdToken"]},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 201
        refresh = {email: t["RefreshToken"] for email, t in tokens.items()}
        yield RealisticSite(url, aws, state, refresh, datetime.now(UTC))


def start_signed_in(context: Any, refresh_token: str) -> None:
    """Make every page of `context` start with this session (as a tab that signed in before: the
    page refreshes its tokens from it, as it does when moving between pages)."""
    context.add_init_script(
        f"if (!sessionStorage.getItem({json.dumps(REFRESH_KEY)}))"
        f" sessionStorage.setItem({json.dumps(REFRESH_KEY)}, {json.dumps(refresh_token)});"
    )


def run_import(site: RealisticSite, rows: str, user: str = LONG_ADMIN) -> str:
    """Import the CSV `rows` (mode upsert) as `user`, wait for its end; its job id (a user's jobs
    are theirs alone to read)."""
    token = id_token(site, user)
    job = _call(site, "imports?mode=upsert", token, rows.encode(), "text/csv")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = _call(site, f"jobs/{job['id']}", token)["status"]
        if status in ("succeeded", "failed"):
            assert status == "succeeded"
            return str(job["id"])
        time.sleep(0.2)
    raise AssertionError("the import did not finish in 60 s")


def id_token(site: RealisticSite, email: str) -> str:
    """A fresh ID token of `email`, from its refresh token."""
    ids = json.loads((site.state / "cognito-idp" / "local.json").read_text())
    answer = _cognito(site.aws).initiate_auth(
        ClientId=ids["client_id"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": site.refresh_tokens[email]},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def _call(site: RealisticSite, path: str, token: str, data: bytes | None = None, kind: str = "") -> Any:
    headers = {"Authorization": token, **({"Content-Type": kind} if kind else {})}
    request = urllib.request.Request(
        site.url + path, data=data, headers=headers, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
