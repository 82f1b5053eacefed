"""Who already holds the status a registration list asked for, shown only to a viewer whose
reach covers that record (the supervising bureau, or the school itself): the list's own
problems say only that the ID holds a status somewhere, so a school learns nothing of
another jurisdiction's pupil by submitting ID numbers."""

from __future__ import annotations

from workflows import jurisdiction

from .models import ACTIVE_STATUSES, STATUS_LABELS, Instance, Student


def _id_number(row: dict) -> str:
    value = next((v for k, v in row.items() if str(k).strip().lower() == "id_number"), "")
    return str(value or "").strip().upper()


def visible_holders(user, instance: Instance) -> dict[int, str]:
    """List row → "school, status, status number" of the record holding that row's ID."""
    data = instance.data or {}
    rows = data.get("rows") or []
    problems = (data.get("check") or {}).get("problems") or []
    wanted = {
        p["row"]: _id_number(rows[p["row"] - 1])
        for p in problems
        if p.get("held_elsewhere") and isinstance(p.get("row"), int) and 0 < p["row"] <= len(rows)
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
