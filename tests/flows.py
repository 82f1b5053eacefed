"""Helpers that drive procedures through the engine the way the reviewers would."""

from __future__ import annotations

from webapp.models import Instance, User
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
