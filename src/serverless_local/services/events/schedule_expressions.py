"""EventBridge's schedule expressions: `rate(...)`, `cron(...)` (six fields) and Scheduler's `at(...)`.

`next_time(expression, after, ...)` is the first time the schedule fires after `after`. Cron fields are
AWS's: minutes, hours, day of month, month (1-12 or JAN-DEC), day of week (1-7 = SUN-SAT, or SUN-SAT),
year; with `*`, `?`, lists, ranges, `/` steps, and `L` (last day of the month, or of the week: `5L` is
the month's last Thursday), `W` (the weekday nearest a day) and `#` (`6#3`: the third Friday). A rate
fires every interval from when the schedule was made (here: when the server started).
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MAX_YEARS = 10


class ScheduleError(ValueError):
    """An expression EventBridge would refuse; the message says why."""


@dataclass(frozen=True)
class _Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: str
    months: frozenset[int]
    weekdays: str
    years: frozenset[int] | None


def next_time(
    expression: str, after: datetime.datetime, *, since: datetime.datetime, timezone: str = "UTC"
) -> datetime.datetime | None:
    """When the schedule next fires after `after` (aware datetimes); None when it never will again."""
    text = expression.strip()
    rate = _RATE.fullmatch(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1 or (value == 1) != (rate.group(2) == unit):
            raise ScheduleError(f"{expression}: use 'rate(1 {unit})' for one, 'rate(N {unit}s)' for more")
        step = datetime.timedelta(seconds=value * _UNITS[unit])
        passed = max(0, int((after - since) / step) + 1)
        return since + passed * step
    zone = _zone(timezone)
    at = _AT.fullmatch(text)
    if at:
        moment = datetime.datetime.fromisoformat(at.group(1)).replace(tzinfo=zone)
        return moment if moment > after else None
    if text.startswith("cron(") and text.endswith(")"):
        cron = parse_cron(text[5:-1])
        local = after.astimezone(zone)
        found = _next_cron(cron, local.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1))
        return found.replace(tzinfo=zone) if found is not None else None
    raise ScheduleError(f"{expression}: not a rate(...), cron(...) or at(...) expression")


def check(expression: str, timezone: str = "UTC") -> None:
    """Raise ScheduleError if EventBridge would refuse `expression`."""
    now = datetime.datetime.now(tz=datetime.UTC)
    next_time(expression, now, since=now, timezone=timezone)


def _zone(name: str) -> datetime.tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{name!r} is not a time zone") from None


def parse_cron(fields: str) -> _Cron:
    """The six fields of a cron expression."""
    parts = fields.split()
    if len(parts) != 6:
        raise ScheduleError(f"cron({fields}): six fields are needed (minutes hours day month weekday year)")
    minutes, hours, days, months, weekdays, years = parts
    if (days == "?") == (weekdays == "?"):
        raise ScheduleError(f"cron({fields}): one of day-of-month and day-of-week must be '?'")
    return _Cron(
        _values(minutes, 0, 59, {}, fields),
        _values(hours, 0, 23, {}, fields),
        days,
        _values(months, 1, 12, _MONTHS, fields),
        weekdays,
        None if years == "*" else _values(years, 1970, 2199, {}, fields),
    )


def _values(field: str, low: int, high: int, names: dict[str, int], whole: str) -> frozenset[int]:
    found: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _number(step_text, names, whole)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _number(first, names, whole), _number(last, names, whole)
        else:
            start = _number(part, names, whole)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ScheduleError(f"cron({whole}): {field} is out of range ({low}-{high})")
        found.update(range(start, end + 1, step))
    return frozenset(found)


def _number(text: str, names: dict[str, int], whole: str) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron({whole}): {text!r} is not a value of its field")
    return int(text)


def _days_in(cron: _Cron, year: int, month: int) -> list[int]:
    """The days of a month the expression fires on."""
    length = calendar.monthrange(year, month)[1]
    if cron.days != "?":
        return sorted(day for day in _month_days(cron.days, year, month, length) if 1 <= day <= length)
    return sorted(_week_days(cron.weekdays, year, month, length))


def _month_days(field: str, year: int, month: int, length: int) -> set[int]:
    days: set[int] = set()
    for part in field.split(","):
        if part == "L":
            days.add(length)
        elif part.endswith("W"):
            days.add(_nearest_weekday(int(part[:-1]) if part[:-1] != "L" else length, year, month, length))
        else:
            days.update(_values(part, 1, 31, {}, field))
    return days


def _nearest_weekday(day: int, year: int, month: int, length: int) -> int:
    day = min(day, length)
    weekday = datetime.date(year, month, day).weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < length else day - 2
    return day


def _week_days(field: str, year: int, month: int, length: int) -> set[int]:
    days: set[int] = set()

    def aws_weekday(day: int) -> int:  # 1 = Sunday .. 7 = Saturday
        return (datetime.date(year, month, day).weekday() + 1) % 7 + 1

    for part in field.split(","):
        if "#" in part:
            weekday_text, nth = part.split("#", 1)
            weekday = _number(weekday_text, _DAYS, field)
            matching = [d for d in range(1, length + 1) if aws_weekday(d) == weekday]
            if int(nth) <= len(matching):
                days.add(matching[int(nth) - 1])
        elif part.endswith("L") and part != "L":
            weekday = _number(part[:-1], _DAYS, field)
            days.add(max(d for d in range(1, length + 1) if aws_weekday(d) == weekday))
        else:
            wanted = _values("7" if part == "L" else part, 1, 7, _DAYS, field)
            days.update(d for d in range(1, length + 1) if aws_weekday(d) in wanted)
    return days


def _next_cron(cron: _Cron, start: datetime.datetime) -> datetime.datetime | None:
    """The first minute at or after `start` (naive, in the schedule's zone) matching `cron`."""
    naive = start.replace(tzinfo=None)
    for year in range(naive.year, naive.year + _MAX_YEARS):
        if cron.years is not None and year not in cron.years:
            continue
        for month in sorted(cron.months):
            if (year, month) < (naive.year, naive.month):
                continue
            for day in _days_in(cron, year, month):
                if (year, month, day) < (naive.year, naive.month, naive.day):
                    continue
                for hour in sorted(cron.hours):
                    for minute in sorted(cron.minutes):
                        candidate = datetime.datetime(year, month, day, hour, minute)
                        if candidate >= naive:
                            return candidate
    return None
