"""Two reviewers of one county completing the same step at the same moment: one wins.

Each thread has its own test client (its own app context and database session); a
barrier releases both requests together. The loser must be told 409, and the record
must move exactly once.
"""

from __future__ import annotations

import threading

import pytest

from webapp.extensions import db
from webapp.models import HumanTask, Instance, StatusHistory, Student
from workflows import engine

from .flows import act, transfer_data
from .world import PASSWORD, build_world


def _token(client, username: str) -> str:
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200
    return resp.get_json()["token"]


def _race(app, usernames: tuple[str, str], task_id: int) -> list[tuple[int, dict]]:
    """POST the same approval from two threads released together; (status, body) of each."""
    clients = [app.test_client() for _ in usernames]
    tokens = [_token(c, u) for c, u in zip(clients, usernames, strict=True)]
    barrier = threading.Barrier(len(usernames))
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def run(client, token):
        barrier.wait()
        resp = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": {"decision": "approve"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        with lock:
            results.append((resp.status_code, resp.get_json()))

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 2, "a request did not finish"
    return results


def _last_step_race(app, world) -> None:
    """Drive a P1 → P3 transfer to its last review and let two county users race on it."""
    world.user("u321202b", "321202", "county")
    student = world.student("P1", grade=4)
    db.session.commit()
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    instance = act(world, instance)  # receiving county
    instance = act(world, instance)  # sending school
    (task,) = engine.open_tasks(instance)
    assert task.step == "from_county_review"
    task_id, instance_id, student_id = task.id, instance.id, student.id
    db.session.commit()
    db.session.remove()  # hold no connection or lock while the threads run

    results = _race(app, ("u321202", "u321202b"), task_id)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] == "conflict" and loser["error"]["message"]
    winner = next(body for status, body in results if status == 200)
    assert winner["status"] == "completed"

    assert StatusHistory.query.filter_by(student_id=student_id).count() == 1
    assert db.session.get(Student, student_id).school.code == "P3"
    assert db.session.get(Instance, instance_id).status == "completed"
    done = db.session.get(HumanTask, task_id)
    assert done.state == "completed"
    assert done.completed_by.username in ("u321202", "u321202b")


def test_simultaneous_last_approval_on_sqlite(app, world):
    assert db.engine.dialect.name == "sqlite"
    _last_step_race(app, world)


@pytest.mark.postgres
def test_simultaneous_last_approval_on_postgres(pg_app):
    assert db.engine.dialect.name == "postgresql"
    world = build_world()
    db.session.commit()
    _last_step_race(pg_app, world)


def _two_graduations_race(app, world) -> None:
    """Two counties approve the last step of two schools' graduations at the same moment.

    The schools' codes end in the same four digits, so both draw from one serial prefix.
    """
    from webapp.models import Certificate, Result

    for code, county in (("32120200901", "321202"), ("32120300901", "321203")):
        world.org(code, f"{code} 初中", "school", county, stages="junior", ownership="public")
    db.session.flush()
    for code in ("32120200901", "32120300901"):
        for _ in range(20):
            s = world.student(code, grade=9, entry_year=2024)
            for subject, kind in (("语文", "core"), ("品德", "conduct"), ("体育", "pe")):
                db.session.add(
                    Result(student_id=s.id, term="t", subject=subject, kind=kind, result="pass")
                )
    db.session.commit()
    tasks = []
    for code in ("32120200901", "32120300901"):
        instance = engine.start(
            "graduation", world.users[code], {"school_code": code, "entry_year": 2024}
        )
        (task,) = engine.open_tasks(instance)
        tasks.append(task.id)
    db.session.commit()
    db.session.remove()

    clients = [app.test_client() for _ in tasks]
    tokens = [_token(c, u) for c, u in zip(clients, ("u321202", "u321203"), strict=True)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def run(client, token, task_id):
        barrier.wait()
        resp = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": {"decision": "approve"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(resp.status_code)

    threads = [
        threading.Thread(target=run, args=args) for args in zip(clients, tokens, tasks, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert statuses == [200, 200]
    numbers = [c.number for c in Certificate.query.all()]
    assert len(numbers) == 40 and len(set(numbers)) == 40
    assert {n[4:8] for n in numbers} == {"0901"}


def test_certificate_numbers_unique_across_concurrent_graduations_on_sqlite(app, world):
    _two_graduations_race(app, world)


@pytest.mark.postgres
def test_certificate_numbers_unique_across_concurrent_graduations_on_postgres(pg_app):
    world = build_world()
    db.session.commit()
    _two_graduations_race(pg_app, world)
