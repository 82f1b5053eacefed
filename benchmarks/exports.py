"""Benchmark: exporting 10,000 and 100,000 student records from PostgreSQL, in one run.

Builds a throwaway PostgreSQL database (dropped at the end unless --keep) with city.py's
city: ten districts of 100 schools, the students spread evenly and written with COPY, their
scope rows by one INSERT … SELECT, every record given the national template's fields (民族,
addresses, a phone, two family members). Then it exports, as the API and the pages do
(`webapp.sheets` over the caller's scoped query, written by `webapp.exports`):

- a district's students (the county user; 1/10 of the city, read through its scope rows),
- the whole city's (the city user),

as .xlsx and CSV, in the display layout and the national template's 63 columns. It prints
rows, seconds, rows/s, the file's size and the process's peak RSS after each export: the
peak does not grow from 10,000 to 100,000 rows when the rows are streamed.

    PYTHONPATH=. .venv/bin/python benchmarks/exports.py [--students 100000] [--keep]
        [--layouts display,national] [--formats xlsx,csv] [--database NAME]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import tempfile
import uuid
from pathlib import Path
from time import perf_counter

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from city import PG_ADMIN_URL, SCOPE_OF_STUDENTS, SECRET, City, build_orgs, copy_students  # noqa: E402

from webapp import exports, sheets  # noqa: E402
from webapp.app import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import User  # noqa: E402
from workflows import deploy, jurisdiction  # noqa: E402

log = logging.getLogger("exports")

MEMBERS = [
    {"name": "王建国", "relation": "父亲", "id_type": "居民身份证", "id_number": "32120219800101001X",
     "ethnicity": "汉族", "employer": "泰州市某公司", "phone": "05238610001", "guardian": True},
    {"name": "李秀英", "relation": "母亲", "id_type": "居民身份证", "id_number": "321202198202020028",
     "ethnicity": "汉族", "employer": "泰州市某医院", "phone": "13900000002", "guardian": False},
]  # fmt: skip
NATIONAL_FIELDS = """
UPDATE student SET ethnicity = '汉族', id_type = '居民身份证', native_place = '江苏泰州',
  birthplace_code = household_code || '000000', nationality = '中国', overseas = '否',
  health = '健康或良好', household_type = '居民户口', entry_month = 9,
  class_number = entry_year::text || CASE WHEN grade <= 6 THEN '1' WHEN grade <= 9 THEN '2'
    ELSE '3' END || lpad(class_name, 2, '0'),
  admission_mode = '就近入学', study_mode = '走读', address_current = '江苏省泰州市海陵区某路 1 号',
  phone = '0523' || lpad((id % 10000000)::text, 7, '0'), members = CAST(:members AS json),
  national_extra = CAST('{"是否独生子女": "是", "政治面貌": "少先队员"}' AS json)
"""


def build(url: str, students: int, seed: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "REDIS_URL": None})
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
        deploy.sync_files()
        db.session.commit()
        city = City(students)
        started = perf_counter()
        build_orgs(city)
        copy_students(city, random.Random(seed))
        db.session.execute(text(SCOPE_OF_STUDENTS))
        db.session.execute(text(NATIONAL_FIELDS), {"members": json.dumps(MEMBERS)})
        db.session.commit()
        log.warning("built %s students in %.1f s", students, perf_counter() - started)
        db.engine.dispose()
    vacuum = create_engine(url, isolation_level="AUTOCOMMIT")
    with vacuum.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    vacuum.dispose()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, layouts: list[str], formats: list[str]) -> list[dict]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "REDIS_URL": None})
    results = []
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        for who in ("u321201", "u3212"):  # a district, then the whole city
            for layout in layouts:
                for fmt in formats:
                    user = User.query.filter_by(username=who).one()
                    path = Path(tmp) / f"{who}-{layout}.{fmt}"
                    query = jurisdiction.students(user)
                    sheet = sheets.students(query, layout)
                    counted = [0]

                    def rows(sheet=sheet, counted=counted):
                        for row in sheet.rows:
                            counted[0] += 1
                            yield row

                    started = perf_counter()
                    with path.open("wb") as out:
                        exports.write(fmt, exports.Sheet(sheet.title, sheet.headers, rows()), out)
                    seconds = perf_counter() - started
                    db.session.rollback()
                    db.session.expunge_all()
                    results.append(
                        {
                            "who": "district" if who == "u321201" else "city",
                            "layout": layout,
                            "format": fmt,
                            "rows": counted[0],
                            "seconds": seconds,
                            "rows_per_s": counted[0] / seconds,
                            "mb": path.stat().st_size / 1e6,
                            "peak_rss_mb": peak_rss_mb(),
                        }
                    )
                    log.warning("%s", results[-1])
                    path.unlink()
    return results


def report(results: list[dict]) -> None:
    print(f"{'list':<10}{'layout':<10}{'format':<8}{'rows':>9}{'s':>8}{'rows/s':>9}"
          f"{'file MB':>9}{'peak RSS MB':>13}")  # fmt: skip
    for r in results:
        print(
            f"{r['who']:<10}{r['layout']:<10}{r['format']:<8}{r['rows']:>9,}{r['seconds']:>8.1f}"
            f"{r['rows_per_s']:>9,.0f}{r['mb']:>9.1f}{r['peak_rss_mb']:>13.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--layouts", default="display,national")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", help="measure on a database an earlier --keep left")
    args = parser.parse_args(argv)
    name = args.database or f"xueji_exports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    if not args.database:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        if not args.database:
            build(url, args.students, args.seed)
        report(measure(url, args.layouts.split(","), args.formats.split(",")))
    finally:
        if not args.keep and not args.database:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
