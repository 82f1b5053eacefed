"""Who already holds the status a registration list asked for, shown only to a viewer whose
reach covers that record (the supervising bureau, or the school itself): the list's own
problems say only that the ID holds a status somewhere, so a school learns nothing of
another jurisdiction's pupil by submitting ID numbers. The same for the withdrawn or
cancelled records a list's IDs already have, which the county sees before it approves."""

from __future__ import annotations

from forms.spreadsheets import numbered
from handlers.registration import id_of_row
from workflows import jurisdiction

from .models import ACTIVE_STATUSES, STATUS_LABELS, Instance, Student


def visible_holders(user, instance: Instance) -> dict[int, str]:
    """List row → "school, status, status number" of the record holding that row's ID."""
    data = instance.data or {}
    rows = data.get("rows") or []
    problems = (data.get("check") or {}).get("problems") or []
    by_number = dict(numbered(rows))
    wanted = {
        p["row"]: id_of_row(by_number[p["row"]])
        for p in problems
        if p.get("held_elsewhere") and p.get("row") in by_number
    }
    if not wanted:
        return {}
    held = {
        s.id_number: s
        for s in jurisdiction.students(user).filter(
            Student.id_number.in_(set(wanted.values())), Student.status.in_(ACTIVE_STATUSES)
        )
    }
    return {
        row: f"学籍在{s.school.name}（{STATUS_LABELS[s.status]}，学籍号 {s.status_number}）"
        for row, number in wanted.items()
        if (s := held.get(number)) is not None
    }


def visible_earlier(user, instance: Instance) -> dict[int, str]:
    """Record id → "school, status, status number" of the withdrawn or cancelled records a
    registration list's IDs already have (the county sees them before approving)."""
    listed = ((instance.data or {}).get("check") or {}).get("earlier_records") or []
    ids = {r["record_id"] for r in listed if isinstance(r.get("record_id"), int)}
    if not ids:
        return {}
    return {
        s.id: f"{s.school.name}（{STATUS_LABELS[s.status]}，学籍号 {s.status_number}）"
        for s in jurisdiction.students(user).filter(Student.id.in_(ids))
    }
