"""Benchmark: a national-layout student import (学生信息导入模板) of 10,000 and 100,000 rows
on PostgreSQL, in one run, so the two peaks show whether memory grows with the file.

Builds a throwaway PostgreSQL database (dropped at the end): a county of 100 schools, each
with its 10-digit 学校标识码. For each size it writes an .xlsx (openpyxl write_only, all 63
template columns) or a CSV, then times `webapp.imports.run_import("students", …)` with the
commit, and prints rows, seconds, rows/s and the peak resident memory of the import alone
(Linux VmHWM, reset before each import). Each size imports into an emptied student table.

    .venv/bin/python benchmarks/imports.py [--rows 10000,100000] [--format xlsx|csv]

See benchmarks/README.md for the figures. Target: 100,000 rows in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import sys
import tempfile
import uuid
from datetime import date, timedelta
from time import perf_counter

from openpyxl import Workbook
from sqlalchemy import create_engine, text

from forms.student_fields import NATIONAL_HEADERS
from forms.validators import build_id_number
from webapp.app import create_app
from webapp.extensions import db
from webapp.imports import run_import
from webapp.models import Organization, Student
from workflows import deploy

TARGET_SECONDS = 60.0
PG_ADMIN_URL = os.environ.get(
    "XUEJI_BENCH_PG",
    os.environ.get("XUEJI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
SCHOOLS = 100
PER_DAY = 400  # ID numbers per birth date (the order code has 3 digits, odd for boys)


def national_row(i: int) -> list[str]:
    """Row i of the file: a primary pupil in grade 4 at school i % SCHOOLS, every column."""
    birth = date(2015, 9, 1) + timedelta(days=i // PER_DAY)
    gender = "男" if i % 2 else "女"
    code = "M" if i % 2 else "F"
    school = f"{3212020000 + i % SCHOOLS}"
    values = {
        "学校标识码": school, "姓名": f"学生{i}", "性别": gender,
        "出生日期": birth.strftime("%Y%m%d"), "出生地行政区划代码": "321202001001",
        "籍贯": "江苏泰州", "民族": "汉族", "国籍/地区": "中国", "身份证件类型": "居民身份证",
        "港澳台侨外": "否", "健康状况": "健康或良好",
        "身份证件号": build_id_number("321202", birth, i % PER_DAY // 2 * 2 + i % 2, code),
        "户口所在地行政区划": "321202001002", "户口性质": "居民户口", "年级": "四年级",
        "班号": f"2022{1}{i % 8 + 1:02d}", "入学年月": "202209", "入学方式": "就近入学",
        "就读方式": "走读", "现住址": "泰州市海陵区凤凰路 1 号", "联系电话": "13800000000",
        "成员1姓名": f"家长{i}", "成员1关系": "母亲", "成员1身份证件类型": "居民身份证",
        "成员1民族": "汉族", "成员1联系电话": "13900000000", "成员1是否监护人": "是",
        "政治面貌": "少先队员", "是否留守儿童": "否",
    }  # fmt: skip
    return [values.get(h, "") for h in NATIONAL_HEADERS]


def build_file(rows: int, fmt: str) -> tuple[bytes, str]:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(NATIONAL_HEADERS)
        writer.writerows(national_row(i) for i in range(rows))
        return out.getvalue().encode("gb18030"), "学生.csv"
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(NATIONAL_HEADERS))
    for i in range(rows):
        sheet.append(national_row(i))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), "学生.xlsx"


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def build_orgs() -> None:
    province = Organization(code="32", name="江苏省", level="province")
    city = Organization(code="3212", name="泰州市", level="city", parent=province)
    county = Organization(code="321202", name="海陵区", level="county", parent=city)
    db.session.add_all([province, city, county])
    for n in range(SCHOOLS):
        db.session.add(
            Organization(
                code=f"B{n:03d}", name=f"基准小学{n}", level="school", parent=county,
                stages="primary", ownership="public", identifier=f"{3212020000 + n}",
            )
        )  # fmt: skip
    db.session.commit()


def measure(rows: int, fmt: str) -> tuple[float, float, float]:
    data, name = build_file(rows, fmt)
    db.session.execute(text("TRUNCATE student, student_scope CASCADE"))
    db.session.commit()
    before = _rss_mb()
    _reset_peak()
    start = perf_counter()
    result = run_import("students", data, name)
    db.session.commit()
    seconds = perf_counter() - start
    peak = _peak_mb()
    if not result.ok or result.created != rows:
        sys.exit(f"CHECK FAILED: {result.errors[:5]} created {result.created} of {rows}")
    if Student.query.count() != rows:
        sys.exit("CHECK FAILED: student count")
    return seconds, peak - before, len(data) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="10000,100000")
    parser.add_argument("--format", default="xlsx", choices=("xlsx", "csv"))
    args = parser.parse_args()
    name = f"xueji_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="xueji_bench_") as tmp:
            uri = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "DATA_DIR": tmp, "REDIS_URL": None})
            with app.app_context():
                from flask_migrate import upgrade  # noqa: PLC0415 — needs the app context

                upgrade()
                deploy.sync_files()
                db.session.commit()
                build_orgs()
                print("format  rows     file MB  seconds  rows/s   peak MB over start  target")
                for rows in (int(r) for r in args.rows.split(",")):
                    seconds, peak, size = measure(rows, args.format)
                    ok = "ok" if rows < 100000 or seconds <= TARGET_SECONDS else "SLOW"
                    print(
                        f"{args.format:<7} {rows:<8} {size:<8.1f} {seconds:<8.1f} "
                        f"{rows / seconds:<8.0f} {peak:<19.0f} {ok}"
                    )
                db.session.remove()
                db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
