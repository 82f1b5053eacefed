"""Benchmark: graduation verification (毕业验印) for one large graduating cohort.

Builds a fresh, migrated database per backend (SQLite in a temporary directory, PostgreSQL
as a throwaway database dropped at the end), one school with N students of one cohort in
the graduating grade and realistic result rows, inserted in bulk. Then it drives the
cohort through the engine as the web side does and times each step:

- classify: `engine.start("graduation", ...)`, which runs graduation.classify inline;
- county:   the county approval (`engine.complete`); for junior schools this is the final step;
- finalize: the completion that runs graduation.finalize (the city stamp for senior high).

Every figure is checked afterwards (roster size, classifications, one unique certificate
per roster entry not struck, statuses, history rows); any mismatch exits non-zero.

    .venv/bin/python benchmarks/graduation.py [--students 5000] [--db sqlite|postgresql|both]
        [--stage senior|junior] [--profile]

See benchmarks/README.md for the latest figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import random
import resource
import sys
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from time import perf_counter

from sqlalchemy import create_engine, func, insert, select, text

import handlers
from forms.validators import build_id_number
from webapp.app import create_app
from webapp.extensions import db
from webapp.models import (
    Certificate,
    Instance,
    Organization,
    Result,
    RosterEntry,
    StatusHistory,
    Student,
    User,
    china_today,
)
from workflows import deploy, engine, rosters

TARGET_SECONDS = 10.0
PG_ADMIN_URL = os.environ.get(
    "XUEJI_BENCH_PG",
    os.environ.get("XUEJI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
CLASS_SIZE = 50
COUNTY = "321202"

# 普通高中: required (必修) 116 credits over 15 subjects, 选修Ⅱ 6, 选修Ⅰ at least 22 (total 144).
SENIOR_REQUIRED = [
    ("语文", 10),
    ("数学", 10),
    ("外语", 10),
    ("思想政治", 8),
    ("历史", 6),
    ("地理", 6),
    ("物理", 6),
    ("化学", 6),
    ("生物", 6),
    ("艺术", 6),
    ("技术", 8),
    ("体育与健康", 11),
    ("研究性学习", 15),
    ("社区服务", 2),
    ("社会实践", 6),
]
SENIOR_ELECTIVE2 = [("书法", 2), ("心理健康", 2), ("地方文化", 2)]
SENIOR_ELECTIVE = [
    ("语文选修", 4),
    ("数学选修", 6),
    ("外语选修", 4),
    ("物理选修", 4),
    ("化学选修", 4),
]
SENIOR_EXTRA_ELECTIVE = ("历史选修", 4)

# 初中: 语文、数学、外语 are core; one other failure is tolerated, two are not.
JUNIOR_CORE = ["语文", "数学", "外语"]
JUNIOR_OTHER = ["物理", "化学", "道德与法治", "历史", "地理", "生物", "信息技术"]
JUNIOR_OTHER += ["音乐", "美术", "劳动", "综合实践活动"]

GRADUATING_GRADE = {"senior": 12, "junior": 9}
LEFT_IN_GRADE = {"senior": 10, "junior": 7}


# -- the cohort ---------------------------------------------------------------------------


def cohort_entry_year(today: date) -> int:
    """The entry year of the cohort now in its third (final) year."""
    return today.year - (2 if today.month >= 9 else 3)


def terms(entry_year: int) -> list[str]:
    return [f"{y}-{y + 1}-{t}" for y in range(entry_year, entry_year + 3) for t in (1, 2)]


def result(sid, term, subject, kind, outcome="pass", credits=None, current=True):
    return {
        "student_id": sid,
        "term": term,
        "subject": subject,
        "kind": kind,
        "result": outcome,
        "credits": Decimal(credits) if credits is not None else None,
        "current": current,
        "recorded_at": datetime(int(term[:4]) + 1, 1, 20),
        "source": "benchmark",
    }


def senior_results(sid: int, rng: random.Random, all_terms: list[str]) -> tuple[list, str]:
    """About 25 result rows for one senior student, and the classification they should give."""
    rows, required, elective2, total = [], 0, 0, 0
    failed = rng.choice(SENIOR_REQUIRED)[0] if rng.random() < 0.04 else None
    made_up = rng.choice(SENIOR_REQUIRED)[0] if rng.random() < 0.03 else None
    for i, (subject, credits) in enumerate(SENIOR_REQUIRED):
        term = all_terms[i % 4]  # required courses in the first two years
        if subject == failed:
            rows.append(result(sid, term, subject, "required", "fail"))
            continue
        if subject == made_up:  # failed first, passed at the make-up exam: both rows kept
            rows.append(result(sid, term, subject, "required", "fail", current=False))
            term = all_terms[(i % 4) + 1]
        rows.append(result(sid, term, subject, "required", "pass", credits))
        required += credits
    short_elective2 = rng.random() < 0.02
    for subject, credits in SENIOR_ELECTIVE2[: 2 if short_elective2 else 3]:
        rows.append(result(sid, all_terms[4], subject, "elective2", "pass", credits))
        elective2 += credits
    electives = list(SENIOR_ELECTIVE)
    if rng.random() < 0.03:
        electives.pop(rng.randrange(len(electives)))  # 18 credits: total below 144
    elif rng.random() < 0.3:
        electives.append(SENIOR_EXTRA_ELECTIVE)
    for subject, credits in electives:
        rows.append(result(sid, all_terms[5], subject, "elective", "pass", credits))
        total += credits
    total += required + elective2
    roll = rng.random()
    conduct = "fail" if roll < 0.015 else "missing" if roll < 0.02 else "pass"
    if conduct != "missing":
        rows.append(result(sid, all_terms[5], "操行", "conduct", conduct))
    ok = required >= 116 and elective2 >= 6 and total >= 144 and conduct == "pass"
    return rows, "graduated" if ok else "completed"


def junior_results(sid: int, rng: random.Random, all_terms: list[str]) -> tuple[list, str]:
    """About 17 result rows for one junior student, and the classification they should give."""
    rows, final = [], all_terms[-1]
    core_failed = 0
    failed_core = rng.choice(JUNIOR_CORE) if rng.random() < 0.03 else None
    made_up = rng.choice(JUNIOR_CORE) if rng.random() < 0.02 else None
    for subject in JUNIOR_CORE:
        if subject == made_up and subject != failed_core:
            rows.append(result(sid, all_terms[-2], subject, "core", "fail", current=False))
        outcome = "fail" if subject == failed_core else "pass"
        core_failed += outcome == "fail"
        rows.append(result(sid, final, subject, "core", outcome))
    roll = rng.random()
    other_fails = 2 if roll < 0.015 else 1 if roll < 0.035 else 0
    failing_others = set(rng.sample(JUNIOR_OTHER, other_fails))
    for i, subject in enumerate(JUNIOR_OTHER):
        term = all_terms[3] if subject in ("地理", "生物") else all_terms[4 + i % 2]
        rows.append(
            result(sid, term, subject, "other", "fail" if subject in failing_others else "pass")
        )
    conduct = "fail" if rng.random() < 0.01 else "pass"
    rows.append(result(sid, final, "品德", "conduct", conduct))
    roll = rng.random()
    pe = "fail" if roll < 0.01 else "missing" if roll < 0.015 else "pass"
    if pe != "missing":
        rows.append(result(sid, final, "体育", "pe", pe))
    ok = core_failed == 0 and other_fails < 2 and conduct == "pass" and pe == "pass"
    return rows, "graduated" if ok else "completed"


@dataclass
class World:
    school_id: int
    school_code: str
    entry_year: int
    users: dict[str, int]  # role → user id
    expected: dict[int, str]  # student id → classification
    result_rows: int
    seconds: float


def build(n: int, stage: str, seed: int) -> World:
    """Organisations, three users and the cohort, in bulk statements; committed."""
    started = perf_counter()
    province = Organization(code="32", name="江苏省", level="province")
    city = Organization(code="3212", name="泰州市", level="city", parent=province)
    county = Organization(code=COUNTY, name="海陵区", level="county", parent=city)
    names = {"senior": "泰州市海陵高级中学", "junior": "泰州市海陵初级中学"}
    school = Organization(
        code="3132012345" if stage == "senior" else "3132012346",
        name=names[stage],
        level="school",
        parent=county,
        stages=stage,
        ownership="public",
        star=3 if stage == "senior" else None,
    )
    users = {}
    password = None
    for role, org in (("school", school), ("county", county), ("city", city)):
        user = User(username=f"bench_{role}", role=role, org=org, display_name=f"{org.name}管理员")
        if password is None:
            user.set_password(uuid.uuid4().hex)
            password = user.password_hash
        user.password_hash = password
        users[role] = user
    db.session.add_all([province, city, county, school, *users.values()])
    db.session.flush()

    rng = random.Random(seed)
    entry_year = cohort_entry_year(china_today())
    all_terms = terms(entry_year)
    left = set(rng.sample(range(n), max(1, n // 100)))  # about 1 % withdrew after a year
    students = []
    for i in range(n):
        gender = "M" if i % 2 else "F"
        birth = date(entry_year - (15 if stage == "senior" else 12), 1 + i % 12, 1 + i % 28)
        id_number = build_id_number(COUNTY, birth, i, gender)
        students.append(
            {
                "id_number": id_number,
                "name": f"学生{i + 1:05d}",
                "gender": gender,
                "birth_date": birth,
                "school_id": school.id,
                "grade": LEFT_IN_GRADE[stage] if i in left else GRADUATING_GRADE[stage],
                "class_name": str(1 + i // CLASS_SIZE),
                "entry_year": entry_year,
                "household_code": COUNTY,
                "status": "withdrawn" if i in left else "enrolled",
                "status_number": f"G{id_number}{i:05d}",
            }
        )
    ids = db.session.scalars(
        insert(Student).returning(Student.id, sort_by_parameter_order=True), students
    ).all()

    make = senior_results if stage == "senior" else junior_results
    results, history, expected = [], [], {}
    for i, sid in enumerate(ids):
        rows, classification = make(sid, rng, all_terms)
        if i in left:  # results of the first year only; left after more than a year
            rows = [r for r in rows if r["term"] in all_terms[:2]]
            classification = "left"
            history.append(
                {
                    "student_id": sid,
                    "procedure": "withdrawal",
                    "before": {"status": "enrolled"},
                    "after": {"status": "withdrawn"},
                    "at": datetime(entry_year + 1, 11, 2, 8),
                }
            )
        results.extend(rows)
        expected[sid] = classification
    db.session.execute(insert(Result.__table__), results)
    db.session.execute(insert(StatusHistory.__table__), history)
    db.session.commit()
    return World(
        school_id=school.id,
        school_code=school.code,
        entry_year=entry_year,
        users={role: u.id for role, u in users.items()},
        expected=expected,
        result_rows=len(results),
        seconds=perf_counter() - started,
    )


# -- measuring ----------------------------------------------------------------------------


HANDLER_SECONDS: dict[str, float] = {}


def time_handlers() -> None:
    """Wrap the two graduation handlers so each run also records the handler's own time."""
    handlers.load_all()
    for name in ("graduation.classify", "graduation.finalize"):
        fn = handlers.HANDLERS[name]
        if getattr(fn, "benchmarked", False):
            continue

        def timed(ctx, fn=fn, name=name):
            started = perf_counter()
            try:
                return fn(ctx)
            finally:
                HANDLER_SECONDS[name] = perf_counter() - started

        timed.benchmarked = True
        handlers.HANDLERS[name] = timed


def _reset_peak_rss() -> bool:
    """Linux: reset the process's peak resident set (VmHWM) so a step's own peak is visible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Step:
    seconds: float
    handler: float | None
    peak_mb: float
    state_bytes: int


@dataclass
class Run:
    backend: str
    stage: str
    students: int
    world: World | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)


def measure(run: Run, name: str, handler: str | None, action, profile: bool) -> Instance:
    """Run one engine verb in a fresh session, as one web request would."""
    db.session.remove()
    HANDLER_SECONDS.pop(handler or "", None)
    _reset_peak_rss()
    profiler = cProfile.Profile() if profile else None
    started = perf_counter()
    if profiler:
        profiler.enable()
    instance = action()
    if profiler:
        profiler.disable()
    seconds = perf_counter() - started
    peak = _peak_rss_mb()
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
        run.profiles[name] = out.getvalue()
    run.steps[name] = Step(
        seconds, HANDLER_SECONDS.get(handler or ""), peak, len(instance.state.encode())
    )
    return instance


# -- the procedure ------------------------------------------------------------------------


def user(world: World, role: str) -> User:
    return db.session.get(User, world.users[role])


def approve(instance_id: int, role: str, world: World) -> Instance:
    instance = db.session.get(Instance, instance_id)
    (task,) = engine.open_tasks(instance)
    return engine.complete(task.id, user(world, role), {"decision": "approve", "comment": ""})


def county_changes(instance: Instance, world: World) -> tuple[set[int], dict[int, str]]:
    """The county strikes three students and reclassifies one, as on the task page."""
    (task,) = engine.open_tasks(instance)
    county = user(world, "county")
    entries = (
        RosterEntry.query.filter_by(instance_id=instance.id, classification="graduated")
        .order_by(RosterEntry.id)
        .limit(4)
        .all()
    )
    struck, reclassified = set(), {}
    for e in entries[:3]:
        rosters.change_entry(task.id, county, e.id, "strike", "学籍信息待核实")
        struck.add(e.student_id)
    if len(entries) == 4:
        e = entries[3]
        rosters.change_entry(task.id, county, e.id, "reclassify", "体育补考不合格", "completed")
        reclassified[e.student_id] = "completed"
    return struck, reclassified


def check_classification(run: Run, instance: Instance) -> None:
    world = run.world
    if instance.status != "running":
        run.problems.append(f"after classification the instance is {instance.status}")
    roster = dict(
        db.session.query(RosterEntry.student_id, RosterEntry.classification).filter_by(
            instance_id=instance.id
        )
    )
    if len(roster) != run.students:
        run.problems.append(f"roster has {len(roster)} entries, expected {run.students}")
    wrong = [sid for sid, c in world.expected.items() if roster.get(sid) != c]
    if wrong:
        sid = wrong[0]
        run.problems.append(
            f"{len(wrong)} students classified unexpectedly, e.g. student {sid}: "
            f"{roster.get(sid)} instead of {world.expected[sid]}"
        )
    counts = instance.data.get("check", {}).get("counts")
    if counts != dict(Counter(world.expected.values())):
        run.problems.append(f"instance counts {counts} differ from the expected ones")


def check_final(run: Run, instance: Instance, struck: set[int], reclassified: dict) -> None:
    world = run.world
    problems = run.problems
    if instance.status != "completed":
        problems.append(f"the instance ended {instance.status}, not completed")
    roster = db.session.execute(
        select(
            RosterEntry.student_id,
            RosterEntry.classification,
            RosterEntry.struck,
            RosterEntry.certificate_number,
        ).filter_by(instance_id=instance.id)
    ).all()
    if len(roster) != run.students:
        problems.append(f"roster has {len(roster)} entries, expected {run.students}")
    kept = [r for r in roster if not r.struck]
    certs = db.session.execute(
        select(Certificate.student_id, Certificate.number, Certificate.kind).filter_by(
            instance_id=instance.id
        )
    ).all()
    numbers = [c.number for c in certs]
    if len(certs) != len(kept) or len(kept) != run.students - len(struck):
        problems.append(
            f"{len(certs)} certificates for {len(kept)} roster entries not struck "
            f"({run.students} - {len(struck)} expected)"
        )
    if len(set(numbers)) != len(numbers):
        problems.append("certificate numbers are not unique")
    if {r.certificate_number for r in kept} != set(numbers):
        problems.append("roster certificate numbers differ from the certificates issued")
    if any(r.certificate_number for r in roster if r.struck):
        problems.append("a struck student got a certificate number")
    if {c.student_id for c in certs} & struck:
        problems.append("a struck student got a certificate")
    expected = {sid: reclassified.get(sid, c) for sid, c in world.expected.items()}
    statuses = dict(
        db.session.query(Student.id, Student.status).filter(Student.school_id == world.school_id)
    )
    wrong = [sid for sid, c in expected.items() if sid not in struck and statuses[sid] != c]
    if wrong:
        problems.append(f"{len(wrong)} students have the wrong status, e.g. {wrong[0]}")
    if any(statuses[sid] in ("graduated", "completed", "left") for sid in struck):
        problems.append("a struck student's status changed")
    history = (
        db.session.query(func.count(StatusHistory.id)).filter_by(instance_id=instance.id).scalar()
    )
    if history != len(kept):
        problems.append(f"{history} history rows for {len(kept)} changed students")


def drive(run: Run, profile: bool) -> None:
    """Build the cohort, run the procedure through the engine, check everything."""
    world = run.world = build(run.students, run.stage, seed=run.students)
    time_handlers()
    school = world.school_code

    def start():
        return engine.start(
            "graduation",
            user(world, "school"),
            {"school_code": school, "entry_year": world.entry_year},
        )

    instance = measure(run, "classify", "graduation.classify", start, profile)
    instance_id = instance.id
    check_classification(run, instance)
    struck, reclassified = county_changes(instance, world)
    if run.stage == "senior":
        measure(run, "county", None, lambda: approve(instance_id, "county", world), profile)
        final = ("finalize", "city")
    else:
        final = ("finalize", "county")
    instance = measure(
        run,
        final[0],
        "graduation.finalize",
        lambda: approve(instance_id, final[1], world),
        profile,
    )
    db.session.remove()
    check_final(run, db.session.get(Instance, instance_id), struck, reclassified)


def _config(uri: str, data_dir: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "benchmark", "DATA_DIR": data_dir}


def _migrated() -> None:
    from flask_migrate import upgrade

    upgrade()
    deploy.sync_files()
    db.session.commit()


def _drive_on(url_for_tmp, run: Run, profile: bool) -> None:
    """Migrate a fresh database (its URL from the temporary data folder) and drive the run."""
    with tempfile.TemporaryDirectory(prefix="xueji_bench_") as tmp:
        app = create_app(_config(url_for_tmp(tmp), tmp))
        with app.app_context():
            try:
                _migrated()
                drive(run, profile)
            finally:
                db.session.remove()
                db.engine.dispose()


def run_sqlite(run: Run, profile: bool) -> None:
    _drive_on(lambda tmp: f"sqlite:///{tmp}/bench.sqlite", run, profile)


def run_postgresql(run: Run, profile: bool) -> None:
    name = f"xueji_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _drive_on(lambda tmp: PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", run, profile)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- report -------------------------------------------------------------------------------


def _seconds(step: Step | None) -> str:
    if step is None:
        return "-"
    inner = f" ({step.handler:.2f})" if step.handler is not None else ""
    return f"{step.seconds:.2f}{inner}"


def report(runs: list[Run]) -> None:
    header = (
        "backend",
        "stage",
        "students",
        "results",
        "build s",
        "classify s",
        "county s",
        "finalize s",
        "state bytes",
        "peak MB",
        "check",
    )
    lines = [header]
    for run in runs:
        w, s = run.world, run.steps
        lines.append(
            (
                run.backend,
                run.stage,
                str(run.students),
                str(w.result_rows) if w else "-",
                f"{w.seconds:.2f}" if w else "-",
                _seconds(s.get("classify")),
                _seconds(s.get("county")),
                _seconds(s.get("finalize")),
                "/".join(str(step.state_bytes) for step in s.values()) or "-",
                f"{max((step.peak_mb for step in s.values()), default=0):.0f}",
                "ok" if not run.problems else "FAILED",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    print()
    print(
        "Seconds per engine call (in brackets: inside the handler). State bytes: the stored "
        "workflow state after each step. Peak MB: the process's peak resident memory during "
        "the steps."
    )
    for run in runs:
        for name, step in run.steps.items():
            if step.seconds > TARGET_SECONDS:
                print(f"{run.backend}: {name} took {step.seconds:.1f} s, over the 10 s target")
        for problem in run.problems:
            print(f"{run.backend}: CHECK FAILED: {problem}")
        for name, text_ in run.profiles.items():
            print(f"\n== profile: {run.backend} {name} ==\n{text_}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--stage", choices=("senior", "junior"), default="senior")
    parser.add_argument("--profile", action="store_true", help="cProfile each step (slows it down)")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    runs = []
    for backend in backends:
        run = Run(backend, args.stage, args.students)
        runs.append(run)
        print(f"{backend}: {args.students} {args.stage} students ...", file=sys.stderr, flush=True)
        try:
            (run_sqlite if backend == "sqlite" else run_postgresql)(run, args.profile)
        except Exception as exc:  # report the other backend's figures all the same
            logging.exception("%s run failed", backend)
            run.problems.append(f"{type(exc).__name__}: {exc}")
    report(runs)
    summary = {r.backend: {k: round(v.seconds, 3) for k, v in r.steps.items()} for r in runs}
    print(json.dumps(summary, ensure_ascii=False), file=sys.stderr)
    return 1 if any(run.problems or not run.steps for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
