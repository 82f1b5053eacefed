"""Counting months of a suspension: completed, begun, in words, and an approved one's length."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta


def whole_months(start: date, end: date) -> int:
    """Completed months from `start` to `end` (0 when `end` is not after `start`)."""
    if end <= start:
        return 0
    delta = relativedelta(end, start)
    return delta.years * 12 + delta.months


def months_begun(start: date, end: date) -> int:
    """Months from `start` to `end`, a month begun counting as one (3 months and a day: 4)."""
    delta = relativedelta(end, start)
    months = delta.years * 12 + delta.months
    return months + (1 if end > start + relativedelta(months=months) else 0)


def months_text(months: int) -> str:
    return f"{months // 12} 年" if months % 12 == 0 else f"{months} 个月"


def suspended_months(data: dict) -> int:
    """How long an approved suspension runs (its start to its end date, extensions included)."""
    period = data.get("suspension") or {}
    try:
        return months_begun(date.fromisoformat(period["start"]), date.fromisoformat(period["end"]))
    except (KeyError, TypeError, ValueError):
        return 12  # approved before the dates were kept: one year, as every suspension then
