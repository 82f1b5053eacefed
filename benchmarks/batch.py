"""Benchmark: batch approval of 200 tasks of one step on PostgreSQL (issue 16 point 3).

Builds a throwaway PostgreSQL database (dropped at the end unless --keep) with the test
bench's small world, starts --tasks suspensions at one junior school (each waits at the
school's four-eyes review), then times `workflows.batch.complete_many` — what
`POST /api/v1/tasks/complete` and the inbox's 批量办理 run — as the school's second
registrar: each task completed in its own transaction, run on to the county's review.
Prints tasks, seconds and milliseconds per task, and how many were done.

    PYTHONPATH=. .venv/bin/python benchmarks/batch.py [--tasks 200] [--keep]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import uuid
from pathlib import Path
from time import perf_counter

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from city import PG_ADMIN_URL, SECRET  # noqa: E402

from webapp.app import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import HumanTask  # noqa: E402
from workflows import batch, deploy, engine  # noqa: E402
from workflows.testbench import placeholder_upload  # noqa: E402
from workflows.testbench.world import build_world  # noqa: E402

APPLICATION = {"reason": "illness", "absence_hours": 220, "start_date": "2026-09-07"}


def open_tasks(world, n: int) -> list[int]:
    """n suspensions entered by uJ1, each's open school review."""
    entering = world.users["J1"]
    ids = []
    for _ in range(n):
        student = world.student("J1", grade=8)
        data = {**APPLICATION, "evidence": placeholder_upload(entering)}
        instance = engine.start("suspension", entering, data, student_id=student.id)
        ids.append(HumanTask.query.filter_by(instance_id=instance.id, state="open").one().id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    name = f"xueji_bench_batch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    uri = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": SECRET,
            "DATA_DIR": tempfile.mkdtemp(),
            "REDIS_URL": None,  # the county's review follows inline, as without workers
        }
    )
    try:
        with app.app_context():
            upgrade()
            deploy.sync_files()
            world = build_world()
            db.session.commit()
            reviewer = world.user("uJ1b", "J1", "school")
            db.session.commit()
            started = perf_counter()
            ids = open_tasks(world, args.tasks)
            print(f"set up {len(ids)} open tasks in {perf_counter() - started:.1f} s")
            started = perf_counter()
            report = batch.complete_many(ids, reviewer, {"decision": "approve", "comment": "同意"})
            seconds = perf_counter() - started
            done = sum(o.status == "done" for o in report)
            print(
                f"batch approve: {len(ids)} tasks, {done} done, {seconds:.2f} s, "
                f"{1000 * seconds / len(ids):.1f} ms per task"
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
