"""Automatic steps on real RQ workers (separate processes) with PostgreSQL and Redis.

Each test gets a fresh PostgreSQL database and its own Redis database number; the worker
is `xueji worker`, started as a process of its own and killed like a real one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from webapp.extensions import db
from webapp.models import (
    Certificate,
    Incident,
    Instance,
    Notification,
    StatusHistory,
    Student,
)
from workflows import deploy, engine, incidents, recovery

from . import worker_handlers  # noqa: F401  (registers the test handlers here too)
from .flows import act, evidence, transfer_data
from .world import SECRET_KEY, build_world

ROOT = Path(__file__).resolve().parent.parent
XUEJI = Path(sys.executable).parent / "xueji"
REDIS_URL = os.environ.get("XUEJI_TEST_REDIS", "redis://127.0.0.1:6379/14")
pytestmark = pytest.mark.postgres


class Worker:
    """`xueji worker` in its own process group, logging to a file the test prints on failure."""

    def __init__(self, app, tmp_path: Path, name: str = "worker", **settings: str):
        self.log = tmp_path / f"{name}.log"
        env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": REDIS_URL,
            "SECRET_KEY": SECRET_KEY,
            "XUEJI_SCAN_SECONDS": "1",
            "XUEJI_LEASE_SECONDS": "3",
            "XUEJI_RETRY_BACKOFF": "0.5,0.5,0.5",
            "XUEJI_HANDLER_MODULES": "tests.worker_handlers",
            "XUEJI_TEST_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            **settings,
        }
        self.proc = subprocess.Popen(
            [str(XUEJI), "worker"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, horse_pid: int | None = None) -> None:
        """SIGKILL the worker and the work horse running a job (RQ starts it in a session of
        its own): nothing gets to clean up."""
        if horse_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(horse_pid, signal.SIGKILL)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def redis():
    conn = Redis.from_url(REDIS_URL)
    conn.ping()  # no skip: CI starts Redis, and a missing Redis must fail the run
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def background(pg_app, redis, tmp_path):
    """The app queues automatic steps on Redis; `start()` runs a worker (stopped at the end)."""
    world = build_world()
    db.session.commit()
    workers: list[Worker] = []

    def start(name: str = "worker", **settings: str) -> Worker:
        workers.append(Worker(pg_app, tmp_path, name, **settings))
        return workers[-1]

    pg_app.config["REDIS_URL"] = REDIS_URL
    yield world, start
    pg_app.config["REDIS_URL"] = None
    for w in workers:
        w.stop()
    for w in workers:
        print(f"--- {w.log.name} ---\n{w.log.read_text()[-3000:]}")


def wait_for(check, timeout: float = 90, what: str = "the worker") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        db.session.rollback()  # see what other processes committed
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def settled(instance_id: int) -> bool:
    """Nothing queued for the instance: it waits for a person, a timer, or it ended."""
    instance = db.session.get(Instance, instance_id, populate_existing=True)
    return instance.pending_since is None


def with_step(procedure: str, step_xml: str, before: str = "finalize") -> None:
    """Deploy a new version of a shipped procedure with one service task before `before`."""
    bpmn, dmn = deploy.read_files(procedure)
    bpmn = bpmn.replace(f'targetRef="{before}"', 'targetRef="inserted"', 1)
    bpmn = bpmn.replace(
        "  </bpmn:process>",
        f'    {step_xml}\n    <bpmn:sequenceFlow id="f_inserted" sourceRef="inserted" '
        f'targetRef="{before}"/>\n  </bpmn:process>',
    )
    deploy.deploy(procedure, bpmn, dmn)
    db.session.commit()


def service(handler_name: str) -> str:
    return (
        f'<bpmn:serviceTask id="inserted" name="测试步骤"><bpmn:extensionElements>'
        f'<spiffworkflow:serviceTaskOperator id="{handler_name}" resultVariable="inserted_result">'
        f"<spiffworkflow:parameters/></spiffworkflow:serviceTaskOperator>"
        f"</bpmn:extensionElements></bpmn:serviceTask>"
    )


def cancellation(world) -> Instance:
    student = world.student("P1", grade=3)
    return engine.start(
        "cancellation",
        world.users["P1"],
        {"reason": "death", "evidence": evidence(world.users["P1"])},
        student_id=student.id,
    )


def county_approves(world, instance: Instance) -> None:
    wait_for(
        lambda: engine.open_tasks(db.session.get(Instance, instance.id)), what="the county task"
    )
    (task,) = engine.open_tasks(db.session.get(Instance, instance.id))
    engine.complete(task.id, world.users["321202"], {"decision": "approve"})


# -- the tests ------------------------------------------------------------------------------


def test_a_whole_transfer_with_a_real_worker(background):
    world, start = background
    start()
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    assert engine.open_tasks(instance) == []  # the checks are queued, not run in the request
    assert instance.pending_since is not None
    instance_id, steps = instance.id, []
    while True:
        wait_for(lambda: settled(instance_id), what="the automatic steps")
        instance = db.session.get(Instance, instance_id)
        if instance.status != "running":
            break
        steps.extend(t.step for t in engine.open_tasks(instance))
        act(world, instance)
    assert instance.status == "completed"
    assert steps == ["to_county_review", "from_school_review", "from_county_review"]
    assert db.session.get(Student, student.id).school.code == "P3"
    (history,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert history.user_id == world.users["321202"].id  # whose review set the worker going


def test_a_step_that_fails_twice_then_succeeds(background):
    world, start = background
    with_step("cancellation", service("test.flaky"))
    start()
    instance = cancellation(world)
    county_approves(world, instance)
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="retries")
    assert Incident.query.count() == 0
    assert db.session.get(Instance, instance.id).data["inserted_result"] == {"tries": 3}
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 1


def test_an_always_failing_step_becomes_an_incident_then_is_retried(background, tmp_path):
    world, start = background
    with_step("cancellation", service("test.broken"))
    (tmp_path / "broken").write_text("on")
    start()
    instance = cancellation(world)
    county_approves(world, instance)
    wait_for(lambda: Incident.query.count() == 1, what="the incident")
    incident = Incident.query.one()
    assert (incident.step, incident.tries) == ("test.broken", 2)
    assert "外部系统不可用" in incident.error
    instance = db.session.get(Instance, instance.id)
    assert instance.status == "error"
    assert db.session.get(Student, instance.student_id).status == "enrolled"

    (tmp_path / "broken").unlink()  # the fault is fixed
    incidents.retry_incident(incident.id, world.users["admin"])
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="the retry")
    assert db.session.get(Student, instance.student_id).status == "cancelled"
    assert db.session.get(Incident, incident.id).resolution == "retried"


def _withdrawal_killed_mid_step(world, start, tmp_path) -> tuple[Instance, Student]:
    """An approved withdrawal whose slow final step a first worker is running when it is
    killed (its transaction never commits)."""
    with_step("withdrawal", service("test.slow"))
    first = start("first")
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
        wait_for(lambda: engine.open_tasks(db.session.get(Instance, instance.id)), what="a task")
        (task,) = engine.open_tasks(db.session.get(Instance, instance.id))
        engine.complete(task.id, world.users[username], {"decision": "approve"})
    marker = tmp_path / f"slow-{instance.id}"
    wait_for(lambda: marker.exists() and marker.read_text(), what="the slow step to start")
    first.kill(int(marker.read_text()))
    return instance, student


def test_a_worker_killed_mid_step_loses_nothing_and_moves_nothing_twice(background, tmp_path):
    world, start = background
    instance, student = _withdrawal_killed_mid_step(world, start, tmp_path)
    start("second")
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="recovery")
    assert db.session.get(Student, student.id).status == "withdrawn"
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1
    # issue 14 item 4: a withdrawal issues no certificate (its 肄业 certificate is stamped at
    # the 验印); its one side effect besides the record, the notice saying so, came once.
    assert Certificate.query.filter_by(student_id=student.id).count() == 0
    said = Notification.message.contains("已退学，符合发给肄业证书的条件")
    assert Notification.query.filter(said).count() == 1


def test_a_timer_survives_a_worker_restart_and_a_redis_flush(background, redis):
    world, start = background
    timer = (
        '<bpmn:intermediateCatchEvent id="inserted" name="等待 4 秒">'
        '<bpmn:timerEventDefinition id="inserted_timer"><bpmn:timeDuration>"PT4S"'
        "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    with_step("cancellation", timer)
    first = start("first")
    instance = cancellation(world)
    county_approves(world, instance)
    wait_for(lambda: db.session.get(Instance, instance.id).wake_at is not None, what="the timer")
    first.kill()
    redis.flushdb()  # the schedule is in the database, not in Redis
    start("second")
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="the timer")
    assert db.session.get(Student, instance.student_id).status == "cancelled"
    (history,) = StatusHistory.query.filter_by(instance_id=instance.id).all()
    assert history.user_id == world.users["321202"].id  # the timer ran in the county's name


def test_a_killed_workers_work_resumes_as_soon_as_its_lease_runs_out(background, tmp_path):
    """Lease 3 s, scan every 1 s: the second worker finishes well within the old 5 minutes."""
    world, start = background
    instance, student = _withdrawal_killed_mid_step(world, start, tmp_path)
    killed = time.monotonic()
    start("second")
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="recovery")
    assert time.monotonic() - killed < 30
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1


def test_a_step_longer_than_the_lease_is_not_run_twice_while_its_worker_lives(background, tmp_path):
    world, start = background
    with_step("cancellation", service("test.steady"))
    start("first")
    start("second")  # its scans see the instance queued for longer than the lease
    instance = cancellation(world)
    county_approves(world, instance)
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="the step")
    assert (tmp_path / f"steady-{instance.id}").read_text() == "1"  # one run, never requeued
    assert db.session.get(Instance, instance.id).data["inserted_result"] == {"runs": 1}


def test_retries_go_on_when_the_worker_that_schedules_them_is_killed(background, redis, tmp_path):
    """The retry waits in RQ's scheduled registry when its scheduler's worker dies; another
    worker takes the scheduling lock within seconds and moves it."""
    world, start = background
    with_step("cancellation", service("test.flaky"))
    first = start("first", XUEJI_RETRY_BACKOFF="4,4")
    wait_for(lambda: redis.get(recovery.SCHEDULER_LOCK) is not None, what="the scheduling lock")
    holder = redis.get(recovery.SCHEDULER_LOCK)
    instance = cancellation(world)
    county_approves(world, instance)
    counter = tmp_path / f"flaky-{instance.id}"
    wait_for(lambda: counter.exists(), what="the first failure")
    first.kill()
    killed = time.monotonic()
    start("second", XUEJI_RETRY_BACKOFF="4,4")
    wait_for(lambda: db.session.get(Instance, instance.id).status == "completed", what="retries")
    assert time.monotonic() - killed < 40
    assert redis.get(recovery.SCHEDULER_LOCK) not in (None, holder)
    assert db.session.get(Instance, instance.id).data["inserted_result"] == {"tries": 3}


def test_killing_a_worker_leaves_no_scheduler_process_behind(background):
    """RQ's own scheduler is a forked child that outlived a killed worker and kept its lock;
    ours is a thread, so the worker's process group is gone with the worker."""
    world, start = background
    worker = start()
    wait_for(lambda: "已启动" in worker.log.read_text(), what="the worker")
    time.sleep(2)  # a forked scheduler would be up by now
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(timeout=10)
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(worker.proc.pid, 0)
