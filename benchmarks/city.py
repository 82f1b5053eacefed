"""Benchmark: a city of a million students on PostgreSQL, served by `xueji serve`.

Builds a throwaway PostgreSQL database (dropped at the end unless --keep): a city of ten
counties and 1,000 schools, N students copied in bulk (COPY), a county with 38,000 notices,
open transfers started through the real engine, and finished transfers as bulk copies of
genuine ones that ran to the end through the engine. Then it serves the database with the
production command (`xueji serve --workers 2`, no Redis: automatic steps run inline) and
drives each request at 1, 4 and 16 concurrent users from this process over loopback,
bounded in count and time. It prints p50/p95/p99, throughput, the SQL statements one such
request issues (the same request in-process with a statement counter), the workers' memory
at start and end, and the engine floor: SpiffWorkflow alone doing the same step with a full
deserialize/serialize, measured in the same run.

    .venv/bin/python benchmarks/city.py [--students 1000000[,100000]] [--transfers 200000]
        [--open 20000] [--workers 2] [--requests 200] [--keep]

See benchmarks/README.md for the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from time import perf_counter
from uuid import UUID

from sqlalchemy import create_engine, event, insert, text
from stdnum.cn import ric

from webapp.app import create_app
from webapp.extensions import db
from webapp.models import HumanTask, Instance, Organization, User, utcnow
from workflows import deploy, engine
from workflows.specs import SERIALIZER

PG_ADMIN_URL = os.environ.get(
    "XUEJI_BENCH_PG",
    os.environ.get("XUEJI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
PASSWORD = "city-bench-password-2026"
SECRET = "city-benchmark-secret-" + "x" * 32
COUNTIES = 10
SCHOOLS_PER_COUNTY = 100
CITY = "3212"
# Household areas the ID numbers of each county's students carry (codes GB 11643 knows).
AREAS = (
    *("321202", "321203", "321281", "321282", "321283"),
    *("321002", "321003", "321023", "321084", "321081"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子轩梓涵欣怡佳琪思雨俊杰晨曦嘉怡雅婷文博天佑志强海燕建国晓东春梅"
ALONE, SOME, MANY = 1, 4, 16
PHASE_SECONDS = 60  # no phase of the load runs longer than this

log = logging.getLogger("city")


# -- the city -------------------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    id: int
    code: str
    parent_id: int


@dataclass
class City:
    students: int
    schools: list[School] = field(default_factory=list)
    counties: list[int] = field(default_factory=list)
    school_of: dict[int, int] = field(default_factory=dict)  # school id → county id
    probe_students: list[tuple[str, str, int]] = field(default_factory=list)  # id, name, school
    build_seconds: dict[str, float] = field(default_factory=dict)


def _stage(n: int) -> tuple[str, range]:
    """Schools of a county: 60 primary, 25 junior, 15 senior."""
    if n < 60:
        return "primary", range(1, 7)
    if n < 85:
        return "junior", range(7, 10)
    return "senior", range(10, 13)


def build_orgs(city: City) -> None:
    province = Organization(code="32", name="江苏省", level="province")
    top = Organization(code=CITY, name="泰州市", level="city", parent=province)
    db.session.add_all([province, top])
    for c in range(COUNTIES):
        county = Organization(
            code=f"{CITY}{c + 1:02d}", name=f"第{c + 1}区", level="county", parent=top
        )
        db.session.add(county)
        for n in range(SCHOOLS_PER_COUNTY):
            stage, _ = _stage(n)
            db.session.add(
                Organization(
                    code=f"S{c + 1:02d}{n:03d}",
                    name=f"第{c + 1}区第{n + 1}学校",
                    level="school",
                    parent=county,
                    stages=stage,
                    ownership="public",
                )
            )
    db.session.flush()
    city.schools = [
        School(o.id, o.code, o.parent_id)
        for o in Organization.query.filter_by(level="school").order_by(Organization.id)
    ]
    city.counties = [o.id for o in Organization.query.filter_by(level="county")]
    city.school_of = {s.id: s.parent_id for s in city.schools}
    hashed = User(username="x", role="school", org_id=0)
    hashed.set_password(PASSWORD)  # one hash for every user: building them is not measured
    users = [
        {
            "username": f"u{o.code}",
            "password_hash": hashed.password_hash,
            "role": role,
            "org_id": o.id,
        }
        for o, role in [(o, o.level) for o in Organization.query.all()]
        if role != "province"
    ]
    db.session.execute(insert(User), users)
    db.session.commit()


def copy_students(city: City, rng: random.Random) -> None:
    """N students, spread evenly over the schools, through COPY."""
    per_school = city.students // len(city.schools)
    taken: dict[tuple[str, date], int] = {}
    columns = (
        "id_number, name, gender, birth_date, school_id, grade, class_name, entry_year, "
        "household_code, status, status_number"
    )
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy(f"COPY student ({columns}) FROM STDIN") as copy:
            for i, school in enumerate(city.schools):
                _, grades = _stage(i % SCHOOLS_PER_COUNTY)
                area = AREAS[i // SCHOOLS_PER_COUNTY]
                for k in range(per_school):
                    grade = grades[k % len(grades)]
                    birth = date(2019 - grade, 1, 1) + timedelta(days=rng.randrange(365))
                    order = taken.get((area, birth), 0)
                    taken[area, birth] = order + 1
                    gender = "M" if order % 2 else "F"
                    if order >= 1000:
                        raise SystemExit("more than 1,000 students share a birthday and area")
                    body = f"{area}{birth:%Y%m%d}{order:03d}"
                    id_number = body + ric.calc_check_digit(body + "0")
                    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
                    class_name = str(1 + (k // len(grades)) // 45)
                    copy.write_row(
                        (
                            id_number,
                            name,
                            gender,
                            birth,
                            school.id,
                            grade,
                            class_name,
                            2026 - grade + 1,
                            area,
                            "enrolled",
                            "G" + id_number,
                        )
                    )
                    if k == per_school // 2:
                        city.probe_students.append((id_number, name, school.id))
        raw.commit()
    finally:
        raw.close()


SCOPE_OF_STUDENTS = """
INSERT INTO student_scope (org_id, student_id)
SELECT s.school_id, s.id FROM student s
UNION ALL SELECT sc.parent_id, s.id FROM student s JOIN organization sc ON sc.id = s.school_id
UNION ALL SELECT co.parent_id, s.id FROM student s JOIN organization sc ON sc.id = s.school_id
          JOIN organization co ON co.id = sc.parent_id
UNION ALL SELECT ci.parent_id, s.id FROM student s JOIN organization sc ON sc.id = s.school_id
          JOIN organization co ON co.id = sc.parent_id JOIN organization ci ON ci.id = co.parent_id
"""


def copy_notices(city: City, rng: random.Random, n: int = 38_000) -> None:
    """A county that has received 38,000 notices, 300 of them unread."""
    county = city.counties[0]
    rows = [
        {
            "org_id": county,
            "role": "county",
            "kind": "task",
            "message": f"新的待办：转学申请（业务编号 {k}）",
            "created_at": utcnow() - timedelta(minutes=n - k),
            "read_at": None if k >= n - 300 else utcnow(),
        }
        for k in range(n)
    ]
    db.session.execute(insert(db.metadata.tables["notification"]), rows)
    db.session.commit()


def _pairs(city: City, rng: random.Random, n: int):
    """(student id, receiving school) for n transfers between counties of one stage."""
    by_stage: dict[str, list[School]] = {}
    for i, school in enumerate(city.schools):
        by_stage.setdefault(_stage(i % SCHOOLS_PER_COUNTY)[0], []).append(school)
    stage_of = {s.id: st for st, schools in by_stage.items() for s in schools}
    ids = db.session.execute(
        text(
            "SELECT id, school_id FROM student TABLESAMPLE SYSTEM (5) "
            "WHERE grade NOT IN (6, 9, 12) LIMIT :n"  # graduating years do not transfer
        ),
        {"n": n * 2},
    ).all()
    rng.shuffle(ids)
    out = []
    for sid, school_id in ids:
        choices = [
            s for s in by_stage[stage_of[school_id]] if s.parent_id != city.school_of[school_id]
        ]
        out.append((sid, rng.choice(choices)))
        if len(out) == n:
            break
    return out


def _start(student_id: int, to: School, users: dict[int, User]) -> Instance:
    from webapp.models import Student

    student = db.session.get(Student, student_id)
    data = {
        "id_number": student.id_number,
        "name": student.name,
        "to_school_code": to.code,
        "to_grade": student.grade,
        "to_class_name": "30",  # a class of its own: the schools' classes 1–22 may be full
        "reason": "household_move",
        "note": "",
    }
    return engine.start("transfer", users[to.id], data)


def start_transfers(city: City, rng: random.Random, n: int) -> float:
    """n open transfers through the real engine, each waiting at the receiving county."""
    users = {u.org_id: u for u in User.query.filter(User.role == "school")}
    started = perf_counter()
    for k, (sid, to) in enumerate(_pairs(city, rng, n)):
        _start(sid, to, users)
        if k and k % 2000 == 0:
            log.warning("  %s transfers started (%.1f/s)", k, k / (perf_counter() - started))
    return perf_counter() - started


def finish_genuine(city: City, rng: random.Random, n: int) -> list[int]:
    """n transfers approved to the end through the engine: the originals of the copies."""
    users = {(u.org_id, u.role): u for u in User.query.all()}
    done = []
    for sid, to in _pairs(city, rng, n):
        instance = _start(sid, to, {k[0]: u for k, u in users.items() if k[1] == "school"})
        while engine.open_tasks(instance):
            (task,) = engine.open_tasks(instance)
            engine.complete(
                task.id, users[task.org_id, task.role], {"decision": "approve", "comment": ""}
            )
        assert instance.status == "completed", (instance.reason, instance.reason_message)
        done.append(instance.id)
    return done


def copy_finished(originals: list[int], n: int) -> None:
    """n finished transfers copied from the genuine ones, each for another student whose
    record now sits at the receiving school, with its tasks and its scope rows."""
    conn = db.session.connection()
    conn.execute(text("CREATE TEMP TABLE original (k int PRIMARY KEY, id int)"))
    conn.execute(
        text("INSERT INTO original VALUES (:k, :id)"),
        [{"k": k, "id": i} for k, i in enumerate(originals)],
    )
    conn.execute(
        text(
            """
            CREATE TEMP TABLE copied AS
            SELECT g AS n, o.id AS original, nextval('instance_id_seq') AS new_id,
                   1 + (g * 7919) % (SELECT max(id) FROM student) AS student_id
            FROM generate_series(1, :n) g JOIN original o ON o.k = g % :k
            """
        ),
        {"n": n, "k": len(originals)},
    )
    conn.execute(
        text(
            """
            INSERT INTO instance (id, procedure, process_version_id, variant, status,
                student_id, initiator_id, school_id, partner_school_id, region_id, state, data,
                created_at, updated_at, finished_at, lock_version)
            SELECT c.new_id, i.procedure, i.process_version_id, i.variant, i.status,
                c.student_id, i.initiator_id, s.school_id, i.partner_school_id, sc.parent_id,
                i.state, i.data, i.created_at - (c.n || ' minutes')::interval, i.updated_at,
                i.finished_at, 1
            FROM copied c JOIN instance i ON i.id = c.original
            JOIN student s ON s.id = c.student_id JOIN organization sc ON sc.id = s.school_id
            """
        )
    )
    conn.execute(
        text(
            """
            INSERT INTO human_task (instance_id, task_uuid, step, name, lane, form_key, org_id,
                role, state, created_at, due_at, completed_at, completed_by_id)
            SELECT n.id, t.task_uuid, t.step, t.name, t.lane, t.form_key,
                CASE WHEN t.org_id = o.school_id THEN n.school_id
                     WHEN t.org_id = o.region_id THEN n.region_id ELSE t.org_id END,
                t.role, t.state, n.created_at, t.due_at, n.finished_at, t.completed_by_id
            FROM copied c JOIN instance n ON n.id = c.new_id JOIN instance o ON o.id = c.original
            JOIN human_task t ON t.instance_id = o.id
            """
        )
    )
    conn.execute(
        text(
            """
            INSERT INTO instance_scope (org_id, instance_id)
            WITH RECURSIVE up(instance_id, org_id) AS (
                SELECT i.id, i.school_id FROM copied c JOIN instance i ON i.id = c.new_id
                UNION SELECT i.id, i.partner_school_id FROM copied c
                      JOIN instance i ON i.id = c.new_id
                UNION SELECT t.instance_id, t.org_id FROM copied c
                      JOIN human_task t ON t.instance_id = c.new_id
                UNION SELECT up.instance_id, o.parent_id FROM up
                      JOIN organization o ON o.id = up.org_id WHERE o.parent_id IS NOT NULL
            )
            SELECT org_id, instance_id FROM up
            """
        )
    )
    db.session.commit()


def build(url: str, students: int, transfers: int, open_: int, seed: int) -> City:
    rng = random.Random(seed)
    city = City(students)
    # Building starts thousands of transfers from each school: no hourly budget for that.
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "REDIS_URL": None}
    app = create_app({**config, "IDENTITY_STARTS_PER_HOUR": 0})
    with app.app_context():
        from flask_migrate import upgrade

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
        deploy.sync_files()
        db.session.commit()
        steps = [
            ("organisations", lambda: build_orgs(city)),
            ("students (COPY)", lambda: copy_students(city, rng)),
            (
                "student scope",
                lambda: (db.session.execute(text(SCOPE_OF_STUDENTS)), db.session.commit()),
            ),
            ("notices", lambda: copy_notices(city, rng)),
        ]
        for name, step in steps:
            started = perf_counter()
            step()
            city.build_seconds[name] = perf_counter() - started
            log.warning("built %s in %.1f s", name, city.build_seconds[name])
        started = perf_counter()
        originals = finish_genuine(city, rng, 20)
        city.build_seconds["genuine finished"] = perf_counter() - started
        started = perf_counter()
        copy_finished(originals, transfers - open_ - len(originals))
        city.build_seconds["finished (copies)"] = perf_counter() - started
        city.build_seconds["open (engine)"] = start_transfers(city, rng, open_)
        log.warning(
            "started %s open transfers in %.1f s", open_, city.build_seconds["open (engine)"]
        )
    vacuum = create_engine(url, isolation_level="AUTOCOMMIT")
    with vacuum.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    vacuum.dispose()
    return city


# -- serving and driving --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """`xueji serve --workers N` on the benchmark database, as a deployment runs it."""

    def __init__(self, url: str, workers: int):
        self.port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET}
        env.pop("REDIS_URL", None)
        xueji = str(Path(sys.executable).with_name("xueji"))
        self.proc = subprocess.Popen(
            [xueji, "serve", "--port", str(self.port), "--workers", str(workers)], env=env
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if (
                    request(self.port, "GET", "/healthz")[0] == 200
                    and len(self.workers()) == workers
                ):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit("the server did not start")

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        )
        return [int(p) for p in out.stdout.split()]

    def rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
        return sizes

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def request(port: int, method: str, path: str, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("Set-Cookie")
    finally:
        conn.close()


def token(port: int, username: str) -> dict:
    body = json.dumps({"username": username, "password": PASSWORD})
    status, out, _ = request(
        port, "POST", "/api/v1/auth/token", {"Content-Type": "application/json"}, body
    )
    assert status == 200, out
    return {"Authorization": "Bearer " + json.loads(out)["token"]}


def browser_session(port: int, username: str) -> dict:
    """Sign in through the login form (with its CSRF token) as a person does."""
    status, page, cookie = request(port, "GET", "/login")
    jar = SimpleCookie(cookie or "")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    cookies = "; ".join(f"{k}={v.value}" for k, v in jar.items())
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": username, "password": PASSWORD})
    status, _, cookie = request(
        port,
        "POST",
        "/login",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies},
        form,
    )
    assert status in (302, 303), status
    jar.load(cookie or "")
    return {"Cookie": "; ".join(f"{k}={v.value}" for k, v in jar.items())}


@dataclass
class Kind:
    """One request of the table: how to make the n-th one."""

    name: str
    make: object  # (n) → (method, path, headers, body)
    expect: int = 200
    user: str = ""  # who signs in, for a page


@dataclass
class Figures:
    kind: str
    users: int
    times: list[float]
    seconds: float
    errors: int

    def pct(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def drive(port: int, kind: Kind, users: int, count: int) -> Figures:
    """`count` requests from `users` threads at once, none of them past PHASE_SECONDS."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    numbers = iter(range(count))
    deadline = time.monotonic() + PHASE_SECONDS

    def user() -> None:
        while time.monotonic() < deadline:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            method, path, headers, body = kind.make(n)
            started = perf_counter()
            status, out, _ = request(port, method, path, headers, body)
            took = perf_counter() - started
            with lock:
                times.append(took)
                if status != kind.expect:
                    errors[0] += 1
                    if errors[0] <= 3:
                        log.warning("%s: %s %s", kind.name, status, out[:300])

    threads = [threading.Thread(target=user) for _ in range(users)]
    started = perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Figures(kind.name, users, times, perf_counter() - started, errors[0])


def kinds(city: City, port: int, tasks: dict[int, list[int]]) -> list[Kind]:
    """The requests of the table, as the county of the first district and one of its
    schools make them."""
    county = city.counties[0]
    in_county = [p for p in city.probe_students if city.school_of[p[2]] == county]
    school_probe = in_county[0]
    school = next(s for s in city.schools if s.id == school_probe[2])
    county_headers = token(port, f"u{_code(county)}")
    school_headers = token(port, f"u{school.code}")
    html = browser_session(port, f"u{_code(county)}")

    def get(path, headers):
        return lambda n: ("GET", path, headers, None)

    def search(headers, probes):
        """A full name, the first 14 digits, the last 6 digits, in turn."""

        def make(n):
            id_number, name, _ = probes[n % len(probes)]
            q = (name, id_number[:14], id_number[-6:])[n % 3]
            return ("GET", "/api/v1/students?q=" + urllib.parse.quote(q), headers, None)

        return make

    county_tokens = {c: token(port, f"u{_code(c)}") for c in tasks}
    order = sorted(tasks)
    body = json.dumps({"data": {"decision": "approve", "comment": ""}})

    def complete(n):
        county_id = order[n % len(order)]
        task_id = tasks[county_id].pop()
        headers = {**county_tokens[county_id], "Content-Type": "application/json"}
        return ("POST", f"/api/v1/tasks/{task_id}/complete", headers, body)

    return [
        Kind("school student search", search(school_headers, [school_probe])),
        Kind("county student search", search(county_headers, in_county)),
        Kind("county instance list", get("/api/v1/instances", county_headers)),
        Kind("school instance list", get("/api/v1/instances", school_headers)),
        Kind("HTML inbox / (county)", get("/", html), user=f"u{_code(county)}"),
        Kind("county task list", get("/api/v1/tasks", county_headers)),  # most urgent first
        Kind(
            "county tasks, overdue, unclaimed, by due",
            get("/api/v1/tasks?overdue=1&claimed=none&sort=due", county_headers),
        ),
        Kind(
            "county tasks, latest due first",
            get("/api/v1/tasks?sort=-due", county_headers),
        ),
        Kind(
            "county tasks of one pupil",
            get("/api/v1/tasks?q=" + urllib.parse.quote(in_county[0][1]), county_headers),
        ),
        Kind(
            "county instances, a month",
            get("/api/v1/instances?since=2026-01-01&until=2026-01-31", county_headers),
        ),
        Kind("task completion", complete),
    ]


_CODES: dict[int, str] = {}


def _code(org_id: int) -> str:
    if org_id not in _CODES:
        _CODES[org_id] = db.session.get(Organization, org_id).code
    return _CODES[org_id]


def open_county_tasks() -> dict[int, list[int]]:
    rows = db.session.execute(
        text(
            "SELECT org_id, id FROM human_task WHERE state = 'open' AND role = 'county' "
            "AND step = 'to_county_review' ORDER BY id"
        )
    )
    out: dict[int, list[int]] = {}
    for org_id, task_id in rows:
        out.setdefault(org_id, []).append(task_id)
    return out


def _sign_in(client, username: str) -> None:
    page = client.get("/login").get_data()
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    form = {"csrf_token": csrf, "username": username, "password": PASSWORD}
    assert client.post("/login", data=form).status_code in (302, 303)


def statements_per_request(url: str, kinds_: list[Kind]) -> dict[str, int]:
    """Each request once more, in this process through the same app, counting statements."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "REDIS_URL": None})
    client = app.test_client()
    with app.app_context():
        bound = db.engine
    seen: list[str] = []

    def count(*args):
        seen.append(args[2])

    event.listen(bound, "before_cursor_execute", count)
    out = {}
    for kind in kinds_:
        method, path, headers, body = kind.make(10_000 + len(out))
        if "Cookie" in headers:  # a page: sign in through the form in this client too
            headers = {}
            _sign_in(client, kind.user)
        client.get("/healthz")
        seen.clear()
        resp = client.open(path, method=method, headers=headers, data=body)
        out[kind.name] = len(seen)
        assert resp.status_code == kind.expect, (kind.name, resp.status_code)
    event.remove(bound, "before_cursor_execute", count)
    bound.dispose()
    return out


def engine_floor(rounds: int = 300) -> float:
    """SpiffWorkflow alone doing a county's approval of a waiting transfer: deserialize the
    stored state, complete the task, run to the next person, serialize. p50 in ms."""
    instance = (
        Instance.query.join(HumanTask)
        .filter(HumanTask.state == "open", HumanTask.step == "to_county_review")
        .first()
    )
    task_uuid = next(t.task_uuid for t in instance.tasks if t.state == "open")
    stored = json.loads(instance.state)
    stored.update(json.loads(instance.process_version.spec_json))
    text_state = json.dumps(stored)
    times = []
    for _ in range(rounds):
        started = perf_counter()
        wf = SERIALIZER.deserialize_json(text_state)
        task = wf.get_task_from_id(UUID(task_uuid))
        task.set_data(decision="approve", comment="")
        task.run()
        wf.do_engine_steps()
        SERIALIZER.serialize_json(wf)
        times.append(perf_counter() - started)
    return statistics.median(times) * 1000


PLAN = (  # users, requests per phase (completions consume open tasks)
    (ALONE, 1.0),
    (SOME, 1.0),
    (MANY, 2.0),
)


def measure(url: str, city: City, workers: int, requests: int) -> dict:
    served = Served(url, workers)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "REDIS_URL": None})
        with app.app_context():
            tasks = open_county_tasks()
            kinds_ = kinds(city, served.port, tasks)
            floor = engine_floor()
        rss_start = served.rss_mb()
        figures = []
        for kind in kinds_:
            drive(served.port, kind, 2, 20)  # warm each worker's caches for this request
            for users, share in PLAN:
                figures.append(drive(served.port, kind, users, int(requests * share)))
                log.warning(
                    "  %-24s %2d users: p95 %.1f ms", kind.name, users, figures[-1].pct(0.95)
                )
        rss_end = served.rss_mb()
    finally:
        served.stop()
    statements = statements_per_request(url, kinds_)
    return {
        "figures": figures,
        "statements": statements,
        "floor": floor,
        "rss": (rss_start, rss_end),
    }


def report(results: dict[int, dict], city_build: dict[int, City]) -> None:
    print()
    for size, result in results.items():
        city = city_build[size]
        print(f"== {size:,} students ==")
        print("build: " + ", ".join(f"{k} {v:.1f} s" for k, v in city.build_seconds.items()))
        print(
            f"{'request':<26}{'users':>6}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'req/s':>8}{'errors':>7}{'SQL':>5}"
        )
        for f in result["figures"]:
            print(
                f"{f.kind:<26}{f.users:>6}{len(f.times):>6}{f.pct(0.5):>9.1f}{f.pct(0.95):>9.1f}"
                f"{f.pct(0.99):>9.1f}{len(f.times) / f.seconds:>8.1f}{f.errors:>7}"
                f"{result['statements'][f.kind]:>5}"
            )
        completion = next(
            f for f in result["figures"] if f.kind == "task completion" and f.users == ALONE
        )
        floor = result["floor"]
        print(
            f"engine floor (SpiffWorkflow alone, same step, deserialize + run + serialize): "
            f"p50 {floor:.2f} ms; completion p50 alone {completion.pct(0.5):.2f} ms "
            f"= {completion.pct(0.5) / floor:.1f}× the floor"
        )
        start, end = result["rss"]
        print(
            "web workers' RSS MB at start "
            + ", ".join(f"{x:.0f}" for x in start)
            + "; at end "
            + ", ".join(f"{x:.0f}" for x in end)
        )
        print()
    if len(results) > 1:
        sizes = sorted(results)
        print("growth from the smallest to the largest city (p95, users alone / 16 users):")
        small, large = results[sizes[0]], results[sizes[-1]]
        for a, b in zip(small["figures"], large["figures"], strict=True):
            if a.users in (ALONE, MANY):
                print(
                    f"  {a.kind:<26}{a.users:>3} users: {a.pct(0.95):7.1f} → {b.pct(0.95):7.1f} ms"
                    f"  (×{b.pct(0.95) / max(a.pct(0.95), 0.01):.2f})"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--students", default="1000000", help="one size, or several: 100000,1000000"
    )
    parser.add_argument("--transfers", type=int, help="default: a fifth of the students")
    parser.add_argument("--open", type=int, help="open transfers; default: 2 % of the students")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200, help="requests per phase")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(message)s", level=logging.WARNING)
    results, cities = {}, {}
    for size in sorted(int(s) for s in args.students.split(",")):
        name = f"xueji_city_{size}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            log.warning("building a city of %s students in %s", f"{size:,}", name)
            cities[size] = build(
                url,
                size,
                args.transfers or size // 5,
                args.open or size // 50,
                args.seed,
            )
            results[size] = measure(url, cities[size], args.workers, args.requests)
        finally:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    report(results, cities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
