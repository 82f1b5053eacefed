"""Checking the rows of a student list: an import (`xueji import students`) or a new-student
registration. One ID number, one status; each row's problems by row and column."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from marshmallow import ValidationError

from webapp.models import (
    ACTIVE_STATUSES,
    LEVEL_LABELS,
    STATUS_LABELS,
    Organization,
    Student,
)
from webapp.models.vocabulary import STAGE_GRADES, STAGE_LABELS

from .spreadsheets import DIGITS, RowError, SheetRow, Table, missing_columns, records_table
from .validators import check_id_number

STUDENT_COLUMNS = (
    "id_number",
    "name",
    "gender",
    "birth_date",
    "school_code",
    "grade",
    "class_name",
    "entry_year",
    "household_code",
    "guardian_name",
    "guardian_phone",
)
STUDENT_REQUIRED = (
    "id_number",
    "name",
    "gender",
    "birth_date",
    "school_code",
    "grade",
    "entry_year",
)
GENDERS = ("M", "F")
_PHONE = re.compile(r"[0-9+\-() ]{7,20}")


RowCheck = Callable[[SheetRow, dict[str, Any]], None]


# What a school is told of an ID that holds a status: not where (that may be another
# jurisdiction's pupil); the supervising bureau sees who on the application page.
HELD_ELSEWHERE = (
    "该身份证号已持有学籍（一人只能有一个学籍），不能再次登记；如有疑问请联系主管教育行政部门核实。"
)


def check_students(
    source: Table | list[dict[str, Any]],
    row_check: RowCheck | None = None,
    name_holder: bool = False,
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Check every student row; returns the values for new Student rows, or the errors.

    An ID number must pass GB 11643 and agree with birth date and gender, must not appear
    twice in the file, and must not already hold an active status (one student, one status).
    `source` is a sheet or a list of row objects (numbered 1..n, see `records_table`).
    `row_check(row, values)` adds a procedure's own rules: it may report errors with
    `row.error(column, message)` (a row with errors is not returned) and add keys to the
    row's values (None where a cell failed its own check). `name_holder` says where an ID
    already holds its status (the command line, run by the platform's operators).
    """
    table = source if isinstance(source, Table) else records_table(source, STUDENT_COLUMNS)
    errors = missing_columns(table, STUDENT_REQUIRED)
    if errors:
        return [], errors
    school_codes = {v.get("school_code", "") for _, v in table.rows}
    schools = {o.code: o for o in Organization.query.filter(Organization.code.in_(school_codes))}
    active = active_students(v.get("id_number", "").upper() for _, v in table.rows)
    first_row: dict[str, int] = {}
    checked: list[dict[str, Any]] = []
    for number, values in table.rows:
        row = SheetRow(number, values, errors)
        before = len(errors)
        name = row.text("name", 64, required=True)
        gender = row.choice("gender", GENDERS)
        birth_date = row.day("birth_date")
        id_number = _check_id(row, birth_date, gender)
        if id_number:
            if id_number in first_row:
                row.error("id_number", f"身份证号与第 {first_row[id_number]} 行重复。")
            elif id_number in active:
                held = active[id_number]
                row.error(
                    "id_number",
                    f"该身份证号已有学籍（{STATUS_LABELS[held.status]}，{held.school.name}，学籍号 {held.status_number}），一人只能有一个学籍。"
                    if name_holder
                    else HELD_ELSEWHERE,
                )
            first_row.setdefault(id_number, number)
        school = _check_school(row, schools)
        grade = row.integer("grade", 1, 12)
        if school is not None and grade is not None:
            offered = [s for s in school.stage_list if grade in STAGE_GRADES[s]]
            if not offered:
                labels = "、".join(STAGE_LABELS[s] for s in school.stage_list) or "未设置"
                row.error("grade", f"{grade} 年级不在该校学段（{labels}）内。")
        class_name = row.text("class_name", 32)
        entry_year = row.integer("entry_year", 1950, date.today().year + 1)
        household_code = row.text("household_code", 12)
        if household_code and not (DIGITS.fullmatch(household_code) and len(household_code) >= 6):
            row.error(
                "household_code", f"户籍行政区划代码应为 6–12 位数字，实为“{household_code}”。"
            )
        guardian_name = row.text("guardian_name", 64)
        guardian_phone = row.text("guardian_phone", 32)
        if guardian_phone and not _PHONE.fullmatch(guardian_phone):
            row.error("guardian_phone", f"电话号码格式不正确：“{guardian_phone}”。")
        values_out = {
            "id_number": id_number,
            "name": name,
            "gender": gender,
            "birth_date": birth_date,
            "school": school,
            "grade": grade,
            "class_name": class_name,
            "entry_year": entry_year,
            "household_code": household_code,
            "guardian_name": guardian_name,
            "guardian_phone": guardian_phone,
        }
        if row_check is not None:
            row_check(row, values_out)
        if len(errors) == before:
            checked.append(values_out)
    return checked, errors


def _check_id(row: SheetRow, birth_date: date | None, gender: str | None) -> str | None:
    value = row.values.get("id_number", "")
    if not value:
        row.error("id_number", "不能为空。")
        return None
    try:
        return check_id_number(value, birth_date, gender)
    except ValidationError as exc:
        row.error("id_number", " ".join(exc.messages))
        return None


def _check_school(row: SheetRow, schools: dict[str, Organization]) -> Organization | None:
    code = row.values.get("school_code", "")
    if not code:
        row.error("school_code", "不能为空。")
        return None
    school = schools.get(code)
    if school is None:
        row.error("school_code", f"学校代码“{code}”不存在：请先导入机构。")
        return None
    if school.level != "school":
        row.error(
            "school_code", f"“{code}”（{school.name}）是{LEVEL_LABELS[school.level]}，不是学校。"
        )
        return None
    return school


def active_students(id_numbers: Iterable[str]) -> dict[str, Student]:
    """Students already holding an enrolled or suspended status, by ID number."""
    wanted = sorted({n for n in id_numbers if n})
    found: dict[str, Student] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for student in Student.query.filter(
            Student.id_number.in_(chunk), Student.status.in_(ACTIVE_STATUSES)
        ):
            found[student.id_number] = student
    return found
