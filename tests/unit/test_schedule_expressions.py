"""EventBridge's schedule expressions: when rate(), cron() and at() fire next."""

from __future__ import annotations

import datetime

import pytest

from serverless_local.services.events.schedule_expressions import ScheduleError, check, next_time

UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def following(expression: str, after: str, since: str | None = None, timezone: str = "UTC") -> str:
    found = next_time(expression, at(after), since=at(since or after), timezone=timezone)
    assert found is not None
    return found.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def test_a_rate_counts_from_when_the_schedule_was_made():
    assert following("rate(5 minutes)", "2024-01-01T00:00:00") == "2024-01-01 00:05"
    assert (
        following("rate(5 minutes)", "2024-01-01T00:07:00", since="2024-01-01T00:00:00") == "2024-01-01 00:10"
    )
    assert following("rate(1 hour)", "2024-01-01T10:30:00", since="2024-01-01T09:15:00") == "2024-01-01 11:15"
    assert following("rate(2 days)", "2024-01-01T00:00:00") == "2024-01-03 00:00"


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", "2024-03-10T13:00:00", "2024-03-11 12:00"),
        ("cron(0/15 * * * ? *)", "2024-03-10T13:07:00", "2024-03-10 13:15"),
        ("cron(0 18 ? * MON-FRI *)", "2024-03-08T19:00:00", "2024-03-11 18:00"),  # Friday evening -> Monday
        ("cron(0 8 1 * ? *)", "2024-03-10T00:00:00", "2024-04-01 08:00"),
        ("cron(0 0 L * ? *)", "2024-02-10T00:00:00", "2024-02-29 00:00"),  # a leap year's last day
        ("cron(0 9 ? * 6#3 *)", "2024-03-01T00:00:00", "2024-03-15 09:00"),  # the third Friday
        ("cron(0 9 ? * 2L *)", "2024-03-01T00:00:00", "2024-03-25 09:00"),  # the last Monday
        ("cron(0 9 15W * ? *)", "2024-06-01T00:00:00", "2024-06-14 09:00"),  # the 15th is a Saturday
        ("cron(30 6 ? JAN,JUL MON 2025)", "2024-03-01T00:00:00", "2025-01-06 06:30"),
    ],
)
def test_cron_fields_as_eventbridge_reads_them(expression, after, expected):
    assert following(expression, after) == expected


def test_a_cron_in_a_time_zone_fires_at_that_zones_hour():
    assert (
        following("cron(0 9 * * ? *)", "2024-07-01T00:00:00", timezone="Europe/Paris") == "2024-07-01 07:00"
    )


def test_at_fires_once_then_never():
    assert following("at(2030-05-01T10:00:00)", "2024-01-01T00:00:00") == "2030-05-01 10:00"
    assert (
        next_time("at(2020-05-01T10:00:00)", at("2024-01-01T00:00:00"), since=at("2024-01-01T00:00:00"))
        is None
    )


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "cron(0 12 * * *)",  # five fields
        "cron(0 12 * * MON *)",  # neither day field is '?'
        "cron(61 12 * * ? *)",
        "every day",
    ],
)
def test_what_eventbridge_refuses_is_refused(expression):
    with pytest.raises(ScheduleError):
        check(expression)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ScheduleError, match="not a time zone"):
        check("cron(0 9 * * ? *)", "Mars/Olympus")
