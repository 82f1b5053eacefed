"""Helpers that drive procedures through the engine the way the reviewers would."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
import time_machine

from webapp.extensions import db
from webapp.models import CHINA, HumanTask, Instance, User
from workflows import engine
from workflows.errors import Refused
from workflows.testbench import placeholder_upload


def transfer_data(student, to_school: str, **overrides) -> dict:
    data = {
        "id_number": student.id_number,
        "name": student.name,
        "to_school_code": to_school,
        "to_grade": student.grade,
        "to_class_name": "1",  # the receiving school names the class when it starts
        "reason": "household_move",
        "note": "",
    }
    data.update(overrides)
    return data


# One uploaded PDF by a user, as the evidence list of a form (the test bench's own).
evidence = placeholder_upload


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
    payload = data
    if task.form_key in ("review", "review_receive", "recheck_failed"):
        payload = {"decision": decision, "comment": comment, **data}
    if task.form_key in ("review_receive", "transfer_class"):  # the receiving school's class
        payload.setdefault("to_class_name", instance.data.get("to_class_name") or "1")
    return engine.complete(task.id, actor_for(world, task), payload)


def approve_all(world, instance: Instance) -> list[tuple[str, str]]:
    """Approve every step until the instance ends, or until a recheck failed on what the
    applicant typed (a reviewer's choice: return or end); the path of (step, org code)."""
    path = []
    while (steps := open_steps(instance)) and steps[0][0] != "recheck_failed":
        path.extend(steps)
        instance = act(world, instance)
    return path


def refused_correction(world, instance: Instance, **data) -> list[str]:
    """Submit the open correction step with `data`: it is refused on the form (the rules
    it names are returned) and stays open, the case running."""
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Refused) as refused:
        act(world, instance, **data)
    db.session.refresh(instance)
    assert instance.status == "running"
    assert [t.id for t in engine.open_tasks(instance)] == [task.id]
    return [r.rule for r in refused.value.refusals]


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


def four_eyes_through_the_api(api, student, procedure: str, data: dict, file_name: str):
    """uP1 starts `procedure` through the API with one uploaded PDF; completing the first
    step as the same user is 403 (四眼原则) and leaves it open. Returns the response of the
    second registrar (uP1b) completing it."""
    entering = api("uP1")
    file_id = entering.post(
        "/api/v1/files", data={"file": (io.BytesIO(b"%PDF-1.4\n%test\n%%EOF\n"), file_name)}
    ).get_json()["id"]
    resp = entering.post(
        "/api/v1/instances",
        json={
            "procedure": procedure,
            "student_id": student.id,
            "data": {**data, "evidence": [file_id]},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    (task,) = resp.get_json()["current_tasks"]
    url = f"/api/v1/tasks/{task['id']}/complete"
    resp = entering.post(url, json={"data": {"decision": "approve"}})
    assert resp.status_code == 403
    assert "四眼原则" in resp.get_json()["error"]["message"]
    assert db.session.get(HumanTask, task["id"]).state == "open"
    return api("uP1b").post(url, json={"data": {"decision": "approve"}})
