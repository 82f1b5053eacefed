"""The China clock: stored times are UTC, days are China's calendar days."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone

# China has one time zone and no daylight saving: stored times are UTC, shown as UTC+8;
# dates on forms and certificates are China's calendar days.
CHINA = timezone(timedelta(hours=8))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# The day a test-bench scenario runs on (`on:`), in the sandbox only; None is the real day.
_SCENARIO_DAY: ContextVar[date | None] = ContextVar("scenario_day", default=None)


def china_today() -> date:
    return _SCENARIO_DAY.get() or datetime.now(CHINA).date()


@contextmanager
def scenario_day(day: date | None) -> Iterator[None]:
    """Let the calendar rules (china_today) see `day` while a scenario runs."""
    token = _SCENARIO_DAY.set(day)
    try:
        yield
    finally:
        _SCENARIO_DAY.reset(token)


def china_midnight(day: date) -> str:
    """The start of `day` in China as ISO text: what a BPMN timeDate waits for."""
    return datetime.combine(day, datetime.min.time(), tzinfo=CHINA).isoformat()
