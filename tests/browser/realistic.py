"""Realistic records for the browser tests: the longest valid value of every field, right-to-left
text, emoji, and ordinary people, 100 records in all, the same on every run.

`RECORDS` is the fixture set (plain JSON values; `amount` as number text so every digit reaches the
server). The extremes come first, so that they are on the list's first page in its default order.
"""

from __future__ import annotations

import json
from typing import Any

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
#: One unbroken word of 200 characters: nothing to wrap at.
LONGEST_NAME = ("Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch" * 4)[:NAME_MAX]
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

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "John"]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Backus",
]
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
    first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
    record: dict[str, Any] = {
        "email": f"{first.lower()}.{last.lower()}@{DOMAINS[n % len(DOMAINS)]}",
        "name": f"{first} {last}" + (f" ({n})" if n >= len(FIRST) else ""),
        "tags": [TAGS[(n + k) % len(TAGS)] for k in range(n % 4)],
        "amount": f"{(n * 1234.5) % 99999:.2f}",
        "active": n % 5 != 0,
    }
    if n % 3 == 0:
        record["phone"] = f"+1 555 01{n:02d}"
    if n % 4 == 1:
        record["notes"] = f"Met at the spring trade fair.\nCall back about order {1000 + n}."
    return record


RECORDS: list[dict[str, Any]] = EXTREMES + [_ordinary(n) for n in range(100 - len(EXTREMES))]


def body(record: dict[str, Any]) -> str:
    """A record as a request body, its amount written as number text (every digit kept)."""
    fields = [
        f"{json.dumps(key)}: {value if key == 'amount' else json.dumps(value, ensure_ascii=False)}"
        for key, value in record.items()
    ]
    return "{" + ", ".join(fields) + "}"
