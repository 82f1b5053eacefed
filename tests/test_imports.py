"""`xueji import orgs|students`: CSV and XLSX, all or nothing per file, errors by row and field."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import inspect

from forms.spreadsheets import RowError, read_table
from forms.student_fields import XUEJI_BASE
from forms.student_rows import check_students
from forms.validators import build_id_number
from webapp.extensions import db
from webapp.imports import import_students
from webapp.models import AuditLog, Organization, Student

ORG_HEADER = ["code", "name", "level", "parent_code", "stage", "ownership", "star"]
ORG_ROWS = [
    ["32", "江苏省", "province", "", "", "", ""],
    ["3212", "泰州市", "city", "32", "", "", ""],
    ["321202", "海陵区", "county", "3212", "", "", ""],
    ["32120201", "海陵九年一贯制学校", "school", "321202", "primary+junior", "public", ""],
    ["32120202", "海陵民办高级中学", "school", "321202", "senior", "private", "4"],
]
STUDENT_HEADER = list(XUEJI_BASE)


def write_csv(path, header, rows, bom=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_xlsx(path, header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


def student_row(n, school="P1", grade=4, gender="M", birth=date(2016, 3, 1), **over):
    row = {
        "id_number": build_id_number("321202", birth, n, gender),
        "name": f"导入学生{n}",
        "gender": gender,
        "birth_date": birth.isoformat(),
        "school_code": school,
        "grade": str(grade),
        "class_name": "2班",
        "entry_year": "2023",
        "household_code": "321202",
        "guardian_name": "王建国",
        "guardian_phone": "13800000000",
    }
    row.update(over)
    return [row[col] for col in STUDENT_HEADER]


def bad_check_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def run_import(runner, kind, path):
    return runner.invoke(args=["import", kind, path])


# ---- organisations ---------------------------------------------------------------------


def test_org_csv_import_builds_the_tree_and_reimport_changes_nothing(runner, tmp_path):
    path = write_csv(tmp_path / "orgs.csv", ORG_HEADER, ORG_ROWS)

    result = run_import(runner, "orgs", path)

    assert result.exit_code == 0, result.output
    assert "单位新增 5，更新 0，未变 0" in result.stdout
    school = Organization.query.filter_by(code="32120201").one()
    assert school.parent.code == "321202"
    assert school.ancestor("city").name == "泰州市"
    assert school.stage_list == ["primary", "junior"]
    assert school.ownership == "public" and school.star is None
    private = Organization.query.filter_by(code="32120202").one()
    assert (private.ownership, private.star) == ("private", 4)
    log = AuditLog.query.filter_by(action="import.orgs").one()
    assert log.user_id is None
    assert log.after["created"] == 5 and log.after["file"] == "orgs.csv"

    again = run_import(runner, "orgs", path)

    assert again.exit_code == 0, again.output
    assert "单位新增 0，更新 0，未变 5" in again.stdout
    assert Organization.query.count() == 5
    assert AuditLog.query.filter_by(action="import.orgs").count() == 2


def test_org_xlsx_import_and_an_update_is_logged_with_before_and_after(runner, tmp_path):
    rows = [[*r[:6], int(r[6]) if r[6] else None] for r in ORG_ROWS]  # star as a number cell
    path = write_xlsx(tmp_path / "orgs.xlsx", ORG_HEADER, rows)
    assert run_import(runner, "orgs", path).exit_code == 0
    assert Organization.query.filter_by(code="32120202").one().star == 4

    rows[4][1], rows[4][6] = "泰州英华高级中学", 3
    result = run_import(runner, "orgs", write_xlsx(tmp_path / "orgs2.xlsx", ORG_HEADER, rows))

    assert result.exit_code == 0, result.output
    assert "单位新增 0，更新 1，未变 4" in result.stdout
    school = Organization.query.filter_by(code="32120202").one()
    assert (school.name, school.star) == ("泰州英华高级中学", 3)
    log = AuditLog.query.filter_by(action="import.orgs").order_by(AuditLog.id.desc()).first()
    assert log.after["updated"] == 1
    assert log.before["32120202"]["star"] == 4
    assert log.after["changes"]["32120202"]["star"] == 3


def test_org_file_with_bad_rows_writes_nothing_and_names_every_row(runner, tmp_path):
    rows = [
        *ORG_ROWS[:3],
        ["32120203", "海陵小学", "school", "999999", "primary", "public", ""],  # 5: no parent
        ["32120204", "海陵中学", "school", "321202", "junior+highschool", "public", ""],  # 6
        ["321203", "高港区", "district", "3212", "", "", ""],  # 7: bad level
        ["32120205", "海陵高中", "school", "321202", "senior", "state", "six"],  # 8
        ["3212", "泰州市", "city", "32", "", "", ""],  # 9: repeats row 3
        ["32120206", "城北小学", "school", "321299", "primary", "public", ""],  # 10: parent later
        ["321299", "城北区", "county", "3212", "", "", ""],
    ]
    path = write_csv(tmp_path / "orgs.csv", ORG_HEADER, rows)

    result = run_import(runner, "orgs", path)

    assert result.exit_code != 0
    err = result.stderr
    assert "第 5 行，字段 parent_code：上级机构“999999”不存在" in err
    assert "第 6 行，字段 stage：" in err and "“junior+highschool”" in err
    assert "第 7 行，字段 level：" in err
    assert "第 8 行，字段 ownership：" in err and "第 8 行，字段 star：" in err
    assert "第 9 行，字段 code：机构代码“3212”与第 3 行重复" in err
    assert "第 10 行，字段 parent_code：上级机构“321299”不存在" in err
    assert "未写入任何数据" in err
    assert Organization.query.count() == 0
    assert AuditLog.query.count() == 0


def test_existing_org_cannot_change_level_and_a_school_sits_under_a_county(runner, world, tmp_path):
    rows = [
        ["321202", "海陵区", "city", "32", "", "", ""],  # row 2: was a county
        ["P9", "新学校", "school", "P1", "primary", "public", ""],  # row 3: under a school
    ]
    result = run_import(runner, "orgs", write_csv(tmp_path / "o.csv", ORG_HEADER, rows))

    assert result.exit_code != 0
    assert "第 2 行，字段 level：机构“321202”已存在，层级为县（区）" in result.stderr
    assert "第 3 行，字段 parent_code：学校的上级应为县（区），“P1”是学校" in result.stderr
    assert Organization.query.filter_by(code="321202").one().level == "county"


def test_missing_column_and_unreadable_files_are_refused(runner, tmp_path):
    no_level = write_csv(tmp_path / "o.csv", ["code", "name", "parent_code"], [["1", "x", ""]])
    result = run_import(runner, "orgs", no_level)
    assert result.exit_code != 0
    assert "第 1 行，字段 level：缺少此列" in result.stderr

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(",".join(ORG_HEADER).encode() + "\n32,江苏省,province,,,,\n".encode("gbk"))
    result = run_import(runner, "orgs", str(gbk))
    assert result.exit_code == 0, result.stderr
    assert Organization.query.filter_by(code="32").one().name == "江苏省"

    neither = tmp_path / "neither.csv"
    neither.write_bytes(",".join(ORG_HEADER).encode() + b"\n32,\xff\xff,province,,,,\n")
    result = run_import(runner, "orgs", str(neither))
    assert result.exit_code != 0 and "既不是 UTF-8，也不是 GBK/GB18030" in result.stderr

    result = run_import(runner, "orgs", str(tmp_path / "absent.csv"))
    assert result.exit_code != 0 and "无法读取文件" in result.stderr

    twice = write_csv(tmp_path / "t.csv", [*ORG_HEADER, "name"], [ORG_ROWS[0] + ["江苏"]])
    result = run_import(runner, "orgs", twice)
    assert result.exit_code != 0 and "列名重复：name" in result.stderr

    (tmp_path / "o.txt").write_text("code\n")
    result = run_import(runner, "orgs", str(tmp_path / "o.txt"))
    assert result.exit_code != 0 and "只接受 .xlsx、.xls 或 .csv" in result.stderr


# ---- students --------------------------------------------------------------------------


def test_student_csv_import_enrols_with_national_status_number(runner, world, tmp_path):
    rows = [
        student_row(1),
        student_row(2, gender="F"),
        student_row(3, school="H1", grade=10, birth=date(2010, 5, 6), entry_year="2026"),
    ]
    path = write_csv(tmp_path / "students.csv", STUDENT_HEADER, rows, bom=False)

    result = run_import(runner, "students", path)

    assert result.exit_code == 0, result.output
    assert "已导入 3 名学生" in result.stdout
    student = Student.query.filter_by(id_number=rows[2][0]).one()
    assert student.school.code == "H1" and student.grade == 10
    assert student.status == "enrolled"
    assert student.status_number == "G" + rows[2][0]
    assert student.birth_date == date(2010, 5, 6)
    assert (student.class_name, student.guardian_name) == ("2班", "王建国")
    log = AuditLog.query.filter_by(action="import.students").one()
    assert log.user_id is None and log.after["created"] == 3
    assert log.after["schools"] == {"P1": 2, "H1": 1}


def test_student_xlsx_with_date_cells(runner, world, tmp_path):
    row = student_row(4)
    row[3] = datetime(2016, 3, 1)  # Excel date cell
    row[5], row[7] = 4, 2023  # number cells
    path = write_xlsx(tmp_path / "students.xlsx", STUDENT_HEADER, [row])

    result = run_import(runner, "students", path)

    assert result.exit_code == 0, result.output
    assert Student.query.filter_by(id_number=row[0]).one().birth_date == date(2016, 3, 1)


def test_one_bad_check_digit_writes_nothing_and_names_row_and_field(runner, world, tmp_path):
    before = Student.query.count()
    good, bad = student_row(5), student_row(6)
    bad[0] = bad_check_digit(bad[0])
    blank = [""] * len(STUDENT_HEADER)  # skipped, but it keeps its row number
    path = write_csv(tmp_path / "s.csv", STUDENT_HEADER, [good, blank, bad, student_row(7)])

    result = run_import(runner, "students", path)

    assert result.exit_code != 0
    assert "第 4 行，字段 id_number：" in result.stderr
    assert "校验位错误" in result.stderr
    assert "第 2 行" not in result.stderr and "第 5 行" not in result.stderr
    assert Student.query.count() == before
    assert Student.query.filter_by(id_number=good[0]).first() is None
    assert AuditLog.query.filter_by(action="import.students").count() == 0


def test_id_number_with_an_active_status_in_the_database_is_refused(runner, world, tmp_path):
    enrolled = world.student("P2")
    suspended = world.student("P2", status="suspended")
    graduated = world.student("P2", grade=6, status="graduated")
    db.session.commit()

    def row_for(s, grade):
        return student_row(
            0,
            grade=grade,
            id_number=s.id_number,
            gender=s.gender,
            birth_date=s.birth_date.isoformat(),
        )

    rows = [row_for(enrolled, 4), row_for(suspended, 4), row_for(graduated, 7)]
    rows[2][4] = "J1"  # the primary graduate enters junior school
    path = write_csv(tmp_path / "s.csv", STUDENT_HEADER, rows)

    result = run_import(runner, "students", path)

    assert result.exit_code != 0
    assert "第 2 行，字段 id_number：该身份证号已有学籍（在籍" in result.stderr
    assert "第 3 行，字段 id_number：该身份证号已有学籍（休学" in result.stderr
    assert "海陵第二小学" in result.stderr
    assert "第 4 行" not in result.stderr

    only_graduate = write_csv(tmp_path / "g.csv", STUDENT_HEADER, [rows[2]])
    assert run_import(runner, "students", only_graduate).exit_code == 0
    assert Student.query.filter_by(id_number=graduated.id_number, status="enrolled").count() == 1


def test_same_id_number_twice_in_one_file_is_refused(runner, world, tmp_path):
    first = student_row(8)
    path = write_csv(tmp_path / "s.csv", STUDENT_HEADER, [first, student_row(9), first])

    result = run_import(runner, "students", path)

    assert result.exit_code != 0
    assert "第 4 行，字段 id_number：身份证号与第 2 行重复" in result.stderr
    assert Student.query.filter_by(id_number=first[0]).count() == 0


def test_unknown_school_and_other_field_errors(runner, world, tmp_path):
    rows = [
        student_row(10, school="NOPE"),  # 2
        student_row(11, school="321202"),  # 3: a county, not a school
        student_row(12, school="P1", grade=8),  # 4: a primary school
        student_row(13, gender="X"),  # 5
        student_row(14, birth_date="2016/03/01"),  # 6
        student_row(15, birth_date="2016-03-02"),  # 7: disagrees with the ID number
        student_row(16, gender="F", id_number=build_id_number("321202", date(2016, 3, 1), 16, "M")),
        student_row(17, grade="13"),  # 9
        student_row(18, name="", guardian_phone="call me"),  # 10
    ]
    result = run_import(runner, "students", write_csv(tmp_path / "s.csv", STUDENT_HEADER, rows))

    assert result.exit_code != 0
    err = result.stderr
    assert "第 2 行，字段 school_code：学校代码“NOPE”不存在" in err
    assert "第 3 行，字段 school_code：“321202”（海陵区）是县（区），不是学校" in err
    assert "第 4 行，字段 grade：8 年级不在该校学段（小学）内" in err
    assert "第 5 行，字段 gender：" in err
    assert "第 6 行，字段 birth_date：" in err and "YYYY-MM-DD" in err
    assert "第 7 行，字段 id_number：" in err and "出生日期与出生日期字段不一致" in err
    assert "第 8 行，字段 id_number：" in err and "性别码与性别字段不一致" in err
    assert "第 9 行，字段 grade：应在 1 到 12 之间，实为 13" in err
    assert "第 10 行，字段 name：" in err and "第 10 行，字段 guardian_phone：" in err
    assert "共 10 处错误" in err
    assert Student.query.count() == 0


def test_functions_work_without_the_command_line(app, world):
    good = dict(zip(STUDENT_HEADER, student_row(20), strict=True))
    bad = dict(good, school_code="P404", id_number=student_row(21)[0])
    upload = "\n".join(",".join(row) for row in (STUDENT_HEADER, good.values(), bad.values()))

    checked, errors = check_students(read_table(upload.encode(), "名单.csv"))
    assert errors == [RowError(3, "school_code", "学校代码“P404”不存在：请先导入机构。")]
    assert [row["id_number"] for row in checked] == [good["id_number"]]

    result = import_students(upload.encode("utf-8-sig"), "名单.csv")
    assert not result.ok and len(result.errors) == 1
    assert str(result.errors[0]).startswith("第 3 行，字段 school_code：")
    assert Student.query.filter_by(id_number=good["id_number"]).first() is None

    result = import_students(b"\xef\xbb\xbfname\n", "empty.xls")
    assert not result.ok and "无法读取 XLS 文件" in str(result.errors[0])


# ---- PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgres
def test_init_db_and_imports_on_postgresql(pg_app, tmp_path):
    runner = pg_app.test_cli_runner()

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert "数据库已就绪" in result.stdout
    tables = set(inspect(db.engine).get_table_names())
    assert {"organization", "user", "student", "audit_log", "process_version"} <= tables

    orgs = write_csv(tmp_path / "orgs.csv", ORG_HEADER, ORG_ROWS)
    assert runner.invoke(args=["import", "orgs", orgs]).exit_code == 0
    again = runner.invoke(args=["import", "orgs", orgs])
    assert "未变 5" in again.stdout
    rows = [student_row(30, school="32120201"), student_row(31, school="32120201", grade=7)]
    rows[1][7] = "2026"
    students = write_csv(tmp_path / "s.csv", STUDENT_HEADER, rows)
    result = runner.invoke(args=["import", "students", students])
    assert result.exit_code == 0, result.output
    assert Student.query.filter_by(status="enrolled").count() == 2
    assert runner.invoke(args=["import", "students", students]).exit_code != 0
    assert Student.query.count() == 2
