"""Working days on China's official calendar: the review deadlines count these.

A working day is what the State Council's yearly holiday notice makes it: statutory
holidays are off, and the weekends it turns into working days (调休, e.g. Sunday
28 September and Saturday 11 October 2025 around National Day) count as working days.
The calendar comes from the `chinesecalendar` package, which carries the published
notices (2004–2026 in version 1.11; a new release adds each year once it is announced).

For a year the installed package does not know yet, every Monday–Friday is a working
day and every Saturday and Sunday is not: deadlines reaching into that year are counted
on that plain week until the package is upgraded.

Days are China's calendar days (UTC+8). Stored times are naive UTC, so `due_at` turns a
stored moment into its China day and back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar

from webapp.models import CHINA

REMIND_DAYS = 2  # the assignees are reminded this many working days before the due day


def is_working_day(day: date) -> bool:
    """True on an official working day (adjusted weekends included); Mon–Fri beyond the data."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the installed calendar does not cover yet
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself is not counted; 0 → `start`)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current


def china_day(moment: datetime) -> date:
    """The China calendar day of a stored (naive UTC) moment."""
    return moment.replace(tzinfo=UTC).astimezone(CHINA).date()


def end_of_day(day: date) -> datetime:
    """The last second of a China calendar day, as a stored (naive UTC) moment."""
    return datetime.combine(day, time(23, 59, 59), CHINA).astimezone(UTC).replace(tzinfo=None)


def due_at(ready_at: datetime, days: int) -> datetime:
    """When a step that became ready at `ready_at` (naive UTC) falls due (naive UTC).

    The end of the `days`-th working day after the China day it became ready: a step
    ready on Friday afternoon with 10 days is due at the end of the Friday two weeks on
    (later when holidays fall in between).
    """
    return end_of_day(add_working_days(china_day(ready_at), days))


def remind_cutoff(now: datetime, days: int = REMIND_DAYS) -> datetime:
    """Tasks due at or before this moment are within `days` working days of their due day.

    A task due on working day D is reminded from the day `days` working days before D;
    that holds exactly when D is no later than the `days`-th working day after today, so
    one comparison on the stored due time finds every task to remind.
    """
    return end_of_day(add_working_days(china_day(now), days))
