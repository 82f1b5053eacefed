"""Helpers that drive procedures through the engine the way the reviewers would."""

from __future__ import annotations

from datetime import date, datetime

import time_machine

from webapp.extensions import db
from webapp.models import CHINA, FileUpload, Instance, User
from workflows import engine


def transfer_data(student, to_school: str, **overrides) -> dict:
    data = {
        "id_number": student.id_number,
        "name": student.name,
        "to_school_code": to_school,
        "to_grade": student.grade,
        "reason": "household_move",
        "note": "",
    }
    data.update(overrides)
    return data


def evidence(user, name: str = "证明.pdf") -> list[int]:
    """One uploaded PDF by `user`, as the evidence list of a form."""
    f = FileUpload(
        name=name,
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
        content=b"%PDF-1.4",
        uploaded_by_id=user.id,
    )
    db.session.add(f)
    db.session.commit()
    return [f.id]


def borrow_data(student, host: str, **overrides) -> dict:
    """A host school's borrow-study application for `student` (one school year)."""
    data = {
        "id_number": student.id_number,
        "name": student.name,
        "host_school_code": host,
        "category": "parents_field_work",
        "start_date": "2026-09-01",
        "end_date": "2027-07-10",
        "note": "",
    }
    data.update(overrides)
    return data


def enrol(world, school: str, count: int = 20, grade: int = 4) -> None:
    """Enrolled students at `school`: 20 let it host one borrowing student (the 5% quota)."""
    for _ in range(count):
        world.student(school, grade=grade)


def open_steps(instance: Instance) -> list[tuple[str, str]]:
    """(step, organisation code) of every open human task."""
    return [(t.step, t.org.code) for t in engine.open_tasks(instance)]


def actor_for(world, task) -> User:
    """The world's user of the task's organisation with the task's role."""
    return next(u for u in world.users.values() if u.org_id == task.org_id and u.role == task.role)


def act(
    world, instance: Instance, decision: str = "approve", comment: str = "", **data
) -> Instance:
    """Complete the single open step of `instance` as its organisation's user."""
    (task,) = engine.open_tasks(instance)
    payload = (
        {"decision": decision, "comment": comment, **data} if task.form_key == "review" else data
    )
    return engine.complete(task.id, actor_for(world, task), payload)


def approve_all(world, instance: Instance) -> list[tuple[str, str]]:
    """Approve every step until the instance ends; returns the path of (step, org code)."""
    path = []
    while engine.open_tasks(instance):
        path.extend(open_steps(instance))
        instance = act(world, instance)
    return path


def at(day: date, hour: int = 10):
    """Move the clock to `day` at `hour` in China (the calendar rules read China's date)."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=CHINA), tick=False
    )


def review(world, instance, username: str, decision: str = "approve", comment: str = ""):
    """Complete the single open review step as the world user `username`."""
    (task,) = engine.open_tasks(instance)
    return engine.complete(
        task.id, world.users[username], {"decision": decision, "comment": comment}
    )


def second_user(world, school: str) -> str:
    """A second registrar of `school` (a review step must not be done by who entered it)."""
    name = f"u{school}b"
    if name not in world.users:
        world.user(name, school, "school")
    return name
