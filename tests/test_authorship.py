"""Every change has an author: automatic steps run by a worker or a timer are audited in the
name of the person whose step set them going, and commands name the person at the terminal."""

from __future__ import annotations

import getpass
import os

import pytest
from redis import Redis

from webapp.extensions import db
from webapp.models import AuditLog, Certificate, Instance, StatusHistory
from workflows import engine, persistence, worker

from .flows import evidence

REDIS_URL = os.environ.get("XUEJI_TEST_REDIS", "redis://127.0.0.1:6379/14")


@pytest.fixture
def queued(app, world):
    """Automatic steps are queued on Redis (as with workers) instead of run in the request."""
    conn = Redis.from_url(REDIS_URL)
    conn.ping()  # no skip: CI starts Redis
    conn.flushdb()
    app.config["REDIS_URL"] = REDIS_URL
    yield world
    app.config["REDIS_URL"] = None
    conn.flushdb()


def _withdrawal_approved_by_the_county(world) -> Instance:
    """uH1 enters a withdrawal, uH1b and the county approve; the last step is queued."""
    student = world.student("H1", grade=11, entry_year=2024)
    world.user("uH1b", "H1", "school")
    db.session.commit()
    instance = engine.start(
        "withdrawal",
        world.users["H1"],
        {"reason": "personal", "evidence": evidence(world.users["H1"])},
        student_id=student.id,
    )
    for username in ("uH1b", "321202"):
        worker.run_pending(instance.id)  # what a worker does with the queued job
        (task,) = engine.open_tasks(db.session.get(Instance, instance.id))
        engine.complete(task.id, world.users[username], {"decision": "approve"})
    return db.session.get(Instance, instance.id)


def test_a_record_changed_by_a_worker_names_the_reviewer_whose_step_caused_it(queued):
    world = queued
    instance = _withdrawal_approved_by_the_county(world)
    assert instance.pending_since is not None  # the final step waits for a worker
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 0

    assert worker.run_pending(instance.id)

    county = world.users["321202"]
    (history,) = StatusHistory.query.filter_by(instance_id=instance.id).all()
    assert (history.after["status"], history.user_id) == ("withdrawn", county.id)
    change = AuditLog.query.filter_by(action="student.withdrawal").one()
    assert change.user_id == county.id and change.actor is None
    # issue 14 item 4: a withdrawal issues no certificate (its 肄业 certificate is stamped
    # at the 验印), so there is no certificate.issue to attribute here any more.
    assert Certificate.query.filter_by(instance_id=instance.id).count() == 0
    # the control: the person who entered the application is named where they acted
    start = AuditLog.query.filter_by(action="withdrawal.start").one()
    assert start.user_id == world.users["H1"].id


def test_the_last_actor_is_whoever_acted_last_and_nobody_for_a_platform_start(queued):
    world = queued
    instance = _withdrawal_approved_by_the_county(world)
    assert persistence.last_actor(instance) == world.users["321202"]
    student = world.student("P1", grade=3)
    started = engine.start_automatic("cancellation", student, {"reason": "death"}, "测试")
    db.session.commit()
    assert persistence.last_actor(started) is None


def test_a_command_is_attributed_to_the_login_user_at_the_terminal(runner, world):
    result = runner.invoke(
        args=["create-user", "clerk01", "--org", "P1", "--role", "school", "--password-stdin"],
        input="a-long-passphrase-7\n",
    )
    assert result.exit_code == 0, result.output
    row = AuditLog.query.filter_by(action="user.create").one()
    assert row.user_id is None
    assert row.actor == f"cli:{getpass.getuser()}"


def test_a_web_request_is_attributed_to_its_user_not_to_a_terminal(client, world, login):
    login("uP1")
    row = AuditLog.query.filter_by(action="auth.login").order_by(AuditLog.id.desc()).first()
    assert row.user_id == world.users["P1"].id and row.actor is None
