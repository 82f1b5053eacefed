"""City scale, as a user sees it: search that finds by ID prefix or end, status number and
part of a name (SQLite and PostgreSQL); scope rows that follow the tree; lists that stop
counting at a bound and read a page in a few statements; the health check; the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import event

from webapp import paging
from webapp.extensions import db
from workflows import engine, lease

from .conftest import Api
from .flows import act, transfer_data
from .scope_check import scope_mismatches
from .world import build_world


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request):
    """The same test on the demo's SQLite and on PostgreSQL."""
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    assert db.engine.dialect.name == request.param
    world = build_world()
    db.session.commit()
    return app, world


def _names(api, q: str) -> set[str]:
    resp = api.get("/api/v1/students", query_string={"q": q})
    assert resp.status_code == 200, resp.get_json()
    return {s["name"] for s in resp.get_json()["items"]}


def test_search_finds_by_id_prefix_end_status_number_and_part_of_a_name(any_db):
    app, world = any_db
    target = world.student("P1", name="欧阳小明")
    world.student("P1", name="王大力")
    far = world.student("P4", name="欧阳小明")  # the same name in another city
    county = Api(app.test_client(), "u321202")
    assert _names(county, target.id_number[:17]) == {"欧阳小明"}
    assert _names(county, target.id_number[-6:]) == {"欧阳小明"}
    assert _names(county, target.status_number) == {"欧阳小明"}
    assert _names(county, target.status_number.lower()) == {"欧阳小明"}
    assert _names(county, "小明") == {"欧阳小明"}
    assert _names(county, "欧阳小明") == {"欧阳小明"}
    assert _names(county, "") == {"欧阳小明", "王大力"}
    # Out of reach stays out of reach, whichever way it is asked for.
    assert _names(county, far.id_number) == set()
    assert _names(county, far.id_number[-6:]) == set()
    assert _names(county, "%") == set()  # a wildcard is a character, not "everything"
    assert _names(Api(app.test_client(), "u321002"), "小明") == {"欧阳小明"}
    assert scope_mismatches() == []


def test_scope_rows_follow_a_transfer_between_counties_on_postgresql(pg_app):
    world = build_world()
    db.session.commit()
    student = world.student("P1")
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    assert scope_mismatches() == []
    while engine.open_tasks(instance):
        instance = act(world, instance)
        assert scope_mismatches() == []
    assert instance.status == "completed"
    # The record moved: the new county lists it, the old one no longer does; both still
    # see the application they handled.
    client = pg_app.test_client()
    assert _names(Api(client, "u321203"), student.id_number) == {student.name}
    assert _names(Api(client, "u321202"), student.id_number) == set()
    assert Api(client, "u321202").get(f"/api/v1/instances/{instance.id}").status_code == 200


def test_a_list_past_the_bound_says_so_and_the_html_pager_shows_plus(
    app, world, login, monkeypatch
):
    for _ in range(4):
        world.student("P1")
    world.student("P2")
    api = Api(app.test_client(), "u321202")
    assert api.get("/api/v1/students").get_json()["total"] == 5
    assert "total_capped" not in api.get("/api/v1/students").get_json()
    monkeypatch.setattr(paging, "COUNT_BOUND", 3)
    body = api.get("/api/v1/students", query_string={"per_page": 2}).get_json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (3, True, 2)
    monkeypatch.setattr(paging, "COUNT_BOUND", 1)
    app.config["PER_PAGE"] = 1
    page = login("u321202").get("/students").get_data(as_text=True)
    assert "共 1+ 条" in page and "下一页" in page


@contextmanager
def counted_statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_page_of_twenty_is_a_handful_of_statements(app, world, login):
    for n in range(25):
        world.student("P1" if n % 2 else "P4")
    client = app.test_client()
    for n in range(12):  # transfers waiting at both counties
        student, to = (world.student("P1"), "P4") if n % 2 else (world.student("P3"), "P2")
        engine.start("transfer", world.users[to], transfer_data(student, to))
    for username in ("u321202", "u321002"):  # the students' county, the receiving one
        api = Api(client, username)
        for url in ("/api/v1/students", "/api/v1/instances", "/api/v1/tasks"):
            db.session.expunge_all()  # count what a fresh request reads, not this test's cache
            with counted_statements() as seen:
                resp = api.get(url)
            assert resp.status_code == 200 and resp.get_json()["items"]
            assert len(seen) <= 10, (url, len(seen), seen)
        g.pop("_login_user", None)
        browser = login(username)
        for url in ("/", "/students", "/instances"):
            db.session.expunge_all()
            g.pop("_login_user", None)  # this test's app context outlives each request
            with counted_statements() as seen:
                assert browser.get(url).status_code == 200
            # the same dozen or so whatever the page holds; one of them lists the user's
            # saved filters
            assert len(seen) <= 13, (url, len(seen))
    # The taking school, to which the pupils' schools are not named yet (a check per row).
    taking = Api(client, "uP4")
    db.session.expunge_all()
    with counted_statements() as seen:
        resp = taking.get("/api/v1/instances")
    assert len(resp.get_json()["items"]) == 6 and len(seen) <= 10, (len(seen), seen)


def test_healthz_names_each_service(app, client):
    resp = client.get("/healthz")
    assert (resp.status_code, resp.get_json()) == (200, {"db": "ok", "redis": "off"})
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    resp = client.get("/healthz")
    assert (resp.status_code, resp.get_json()) == (503, {"db": "ok", "redis": "down"})
    app.config["REDIS_URL"] = os.environ.get("XUEJI_TEST_REDIS", "redis://127.0.0.1:6379/14")
    assert client.get("/healthz").get_json() == {"db": "ok", "redis": "ok"}


def test_one_process_holds_the_scan_lease_until_it_ends(app):
    assert lease.take("scan", 60, holder="web-1")
    assert not lease.take("scan", 60, holder="web-2")
    assert lease.take("scan", 60, holder="web-1")  # the holder renews its own
    assert lease.take("other", 60, holder="web-2")  # another job has its own lease
    assert lease.take("scan", -1, holder="web-1")  # gives it up (expires at once)
    assert lease.take("scan", 60, holder="web-2")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _wait_for_workers(pid: int, n: int) -> set[int]:
    deadline = time.monotonic() + 30
    while len(_children(pid)) != n and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_children(pid)) == n
    return _children(pid)


@pytest.mark.postgres
def test_serve_runs_worker_processes_and_restarts_them_gracefully(pg_app):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": pg_app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "x" * 40,
        "XUEJI_SCAN_SECONDS": "1",
    }
    env.pop("REDIS_URL", None)
    xueji = str(Path(sys.executable).with_name("xueji"))
    cli = [xueji, "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, body = _get(url)
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not answer within 60 s")  # its output follows
        assert status == 200 and b'"db":"ok"' in body.replace(b" ", b"")
        workers = _wait_for_workers(server.pid, 2)
        server.send_signal(signal.SIGHUP)  # graceful restart: new workers, no downtime
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (_children(server.pid) & workers):
            assert _get(url)[0] == 200
            time.sleep(0.2)
        assert not (_wait_for_workers(server.pid, 2) & workers)
        assert _get(url)[0] == 200
        # The scan ran under the lease of one worker (the first to take it).
        time.sleep(2.5)
        db.session.remove()
        holder = db.session.execute(db.text("SELECT holder FROM lease WHERE name = 'scan'"))
        assert holder.scalar() is not None
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out.decode()[-2000:]
