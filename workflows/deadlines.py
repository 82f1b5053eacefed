"""Due dates of human steps: the reminder two working days ahead, and what is overdue.

Every step is due `dueDays` working days (default 10, `persistence.REVIEW_DAYS`) after it
became ready, on the official calendar (`workflows.workdays`); the engine stores that
as `HumanTask.due_at`. The periodic scan calls `send_due_reminders`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update

from webapp.models import HumanTask, db, utcnow

from . import notices, workdays


def send_due_reminders(now: datetime | None = None, limit: int = 500) -> int:
    """Remind the assignees of every open step due within two working days; returns how many.

    Each step is reminded once (`HumanTask.reminded_at`), also when it is found only after
    its due day. A conditional UPDATE claims each step, so two scans running at once never
    remind twice; the notices and the claims commit together (mail goes after the commit).
    At most `limit` steps per call, the earliest due first; the next scan takes the rest.
    """
    now = now or utcnow()
    rows = (
        HumanTask.query.filter(
            HumanTask.state == "open",
            HumanTask.reminded_at.is_(None),
            HumanTask.due_at.is_not(None),
            HumanTask.due_at <= workdays.remind_cutoff(now),
        )
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(limit)
        .all()
    )
    sent = 0
    try:
        for row in rows:
            won = db.session.execute(
                update(HumanTask)
                .where(
                    HumanTask.id == row.id,
                    HumanTask.state == "open",
                    HumanTask.reminded_at.is_(None),
                )
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won:
                notices.reminder(row, now)
                sent += 1
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return sent


def is_overdue(task: HumanTask, now: datetime | None = None) -> bool:
    return task.state == "open" and task.due_at is not None and task.due_at < (now or utcnow())


def overdue_filter(now: datetime | None = None) -> Iterable:
    """SQL conditions of an overdue step: open and past its due time."""
    return (
        HumanTask.state == "open",
        HumanTask.due_at.is_not(None),
        HumanTask.due_at < (now or utcnow()),
    )
