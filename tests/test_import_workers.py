"""An import confirmed with Redis configured runs on a real RQ worker (`xueji worker`, a
process of its own, PostgreSQL): 确认导入 answers at once with the job running, and the job
ends done with every row written and the import audited in the person's name."""

from __future__ import annotations

import io
import os

import pytest
from redis import Redis

from webapp.extensions import db
from webapp.models import AuditLog, ImportJob, Student

from .conftest import Api
from .scope_check import scope_mismatches
from .test_import_jobs import student_row, xlsx
from .test_workers import Worker, wait_for
from .world import build_world

REDIS_URL = os.environ.get("XUEJI_IMPORT_TEST_REDIS", "redis://127.0.0.1:6379/13")
pytestmark = pytest.mark.postgres


@pytest.fixture
def queued(pg_app, tmp_path):
    conn = Redis.from_url(REDIS_URL)
    conn.ping()
    conn.flushdb()
    world = build_world()
    db.session.commit()
    pg_app.config["REDIS_URL"] = REDIS_URL
    workers: list[Worker] = []
    yield world, lambda: workers.append(Worker(pg_app, tmp_path, REDIS_URL=REDIS_URL))
    pg_app.config["REDIS_URL"] = None
    for w in workers:
        w.stop()
        print(f"--- {w.log.name} ---\n{w.log.read_text()[-3000:]}")
    conn.flushdb()


def test_a_confirmed_import_runs_on_the_worker(queued, pg_app):
    world, start_worker = queued
    school = Api(pg_app.test_client(), "uP1")
    rows = [student_row(n) for n in range(1, 6)]
    body = school.post(
        "/api/v1/imports",
        data={"kind": "students", "file": (io.BytesIO(xlsx(rows)), "students.xlsx")},
    ).get_json()
    assert body["status"] == "checked" and body["problems"] == []

    resp = school.post(f"/api/v1/imports/{body['id']}/confirm")
    assert resp.status_code == 202 and resp.get_json()["status"] == "running"
    assert Student.query.filter(Student.name.like("导入学生%")).count() == 0  # not inline

    start_worker()
    wait_for(lambda: db.session.get(ImportJob, body["id"]).status != "running")
    job = school.get(f"/api/v1/imports/{body['id']}").get_json()
    assert job["status"] == "done" and job["progress"] == 1.0 and job["written"] == 5
    assert Student.query.filter(Student.name.like("导入学生%")).count() == 5
    entry = AuditLog.query.filter_by(action="import.students").one()
    assert entry.user_id == world.users["P1"].id
    # Written by COPY on PostgreSQL: the scope rows are the tree's, so the county sees them.
    assert scope_mismatches() == []
    county = Api(pg_app.test_client(), "u321202")
    found = county.get("/api/v1/students", query_string={"q": "导入学生"}).get_json()
    assert found["total"] == 5
