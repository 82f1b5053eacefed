"""Checking the rows of a student list: an import (`xueji import students`) or a new-student
registration, in either layout (this platform's or the national template's, see
`student_fields`). One ID number, one status; each row's problems by sheet row and by the
column's header as the file writes it.

`StudentCheck` checks a stream chunk by chunk: the schools and active ID numbers of a chunk
are looked up together, and only the ID numbers seen so far are kept across chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import ARRAY, String, any_, bindparam

from webapp.models import (
    ACTIVE_STATUSES,
    LEVEL_LABELS,
    STATUS_LABELS,
    Organization,
    Student,
    db,
)
from webapp.models.codes import RESIDENT_ID
from webapp.models.vocabulary import STAGE_GRADES, STAGE_LABELS

from .spreadsheets import DIGITS, RowError, SheetRow, Table, records_table
from .student_fields import XUEJI_BASE, is_national
from .student_layouts import Layout, layout_of
from .student_record import record_fields
from .validators import check_id_number

GENDERS = ("M", "F")
_PHONE = re.compile(r"[0-9+\-() ]{7,20}")
_OTHER_DOCUMENT = re.compile(r"[A-Z0-9\-]{1,18}")

RowCheck = Callable[[SheetRow, dict[str, Any]], None]


# What a school is told of an ID that holds a status: not where (that may be another
# jurisdiction's pupil); the supervising bureau sees who on the application page.
HELD_ELSEWHERE = (
    "该身份证号已持有学籍（一人只能有一个学籍），不能再次登记；如有疑问请联系主管教育行政部门核实。"
)


class StudentCheck:
    """The checks of one file's student rows, fed chunk by chunk (`check`).

    `row_check(row, values)` adds a procedure's own rules: it may report errors with
    `row.error(key, message)` (named by the file's header; a row with errors is not
    returned) and add keys to the row's values. `name_holder` says where an ID already
    holds its status (the command line, run by the platform's operators). `known` are
    columns a procedure reads itself (a registration's deferral), not reported as ignored.
    `reach` limits the schools a row may name to the importer's own (see `Reach`).
    """

    def __init__(
        self,
        columns: list[str],
        row_check: RowCheck | None = None,
        name_holder: bool = False,
        known: Iterable[str] = (),
        reach: Reach | None = None,
    ):
        self.layout: Layout = layout_of(columns, known)
        self.row_check = row_check
        self.name_holder = name_holder
        self.reach = reach
        self.first_row: dict[str, int] = {}

    def missing(self) -> list[RowError]:
        """A required column the file lacks, by its header: nothing else is checked then."""
        return [RowError(1, c, "缺少此列。") for c in self.layout.missing]

    @property
    def ignored_columns(self) -> list[str]:
        """The file's columns the platform does not keep, as the file writes them."""
        return list(self.layout.ignored)

    def check(
        self, rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
    ) -> list[dict[str, Any]]:
        """Check a chunk of rows; returns the values of the rows without problems."""
        prepared = [(n, *self.layout.prepare(v, n, errors)) for n, v in rows]
        codes = {k.get("school_code", "") for _, k, _ in prepared} - {""}
        schools = self.layout.schools(codes)
        active = active_students(_plain_id(k) for _, k, _ in prepared)
        checked = []
        for number, keyed, failed in prepared:
            row = SheetRow(number, keyed, errors, self.layout.names, failed)
            before = len(errors)
            values = self._row(row, schools, active)
            if self.row_check is not None:
                self.row_check(row, values)
            if len(errors) == before:
                checked.append(values)
        return checked

    def _row(
        self, row: SheetRow, schools: dict[str, Organization], active: dict[str, Student]
    ) -> dict[str, Any]:
        name = row.text("name", 64, required=True)
        gender = row.choice("gender", GENDERS)
        birth_date = row.day("birth_date")
        id_number = self._id_number(row, birth_date, gender, active)
        school = _check_school(row, schools, self.reach)
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
        extra = record_fields(row, self.layout)
        guardian_name = row.text("guardian_name", 64)
        guardian_phone = row.text("guardian_phone", 32)
        if guardian_phone and not _PHONE.fullmatch(guardian_phone):
            row.error("guardian_phone", f"电话号码格式不正确：“{guardian_phone}”。")
        if "guardian_name" not in self.layout.present:
            guardian_name, guardian_phone = _guardian(extra.get("members"))
        return {
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
            **extra,
        }

    def _id_number(
        self, row: SheetRow, birth: date | None, gender: str | None, active: dict[str, Student]
    ) -> str | None:
        id_number = _check_id(row, birth, gender)
        if not id_number:
            return None
        if id_number in self.first_row:
            row.error("id_number", f"身份证号与第 {self.first_row[id_number]} 行重复。")
        elif id_number in active:
            held = active[id_number]
            row.error(
                "id_number",
                f"该身份证号已有学籍（{STATUS_LABELS[held.status]}，{held.school.name}，学籍号 {held.status_number}），一人只能有一个学籍。"
                if self.name_holder
                else HELD_ELSEWHERE,
            )
        self.first_row.setdefault(id_number, row.number)
        return id_number


def check_students(
    source: Table | list[dict[str, Any]],
    row_check: RowCheck | None = None,
    name_holder: bool = False,
    known: Iterable[str] = (),
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Check every student row of a whole sheet or list of row objects (numbered 1..n, see
    `records_table`); returns the values for new Student rows, or the errors.

    An ID number (居民身份证) must pass GB 11643 and agree with birth date and gender; any
    document must not appear twice in the file, and must not already hold an active status
    (one student, one status). See `StudentCheck` for `row_check`, `name_holder`, `known`.
    """
    if isinstance(source, Table):
        table = source
    else:
        keys = {str(k).strip() for r in source if isinstance(r, dict) for k in r}
        table = records_table(source, () if is_national(list(keys)) else XUEJI_BASE)
    checker = StudentCheck(table.columns, row_check, name_holder, known)
    errors = checker.missing()
    if errors:
        return [], errors
    checked = checker.check(table.rows, errors)
    return checked, errors


def _plain_id(keyed: dict[str, str]) -> str:
    return keyed.get("id_number", "").replace(" ", "").upper()


def _check_id(row: SheetRow, birth_date: date | None, gender: str | None) -> str | None:
    if "id_number" in row.failed:
        return None
    value = row.values.get("id_number", "")
    if not value:
        row.error("id_number", "不能为空。")
        return None
    if (row.values.get("id_type") or RESIDENT_ID) != RESIDENT_ID:
        number = value.replace(" ", "").upper()
        if not _OTHER_DOCUMENT.fullmatch(number):
            row.error(
                "id_number", f"证件号码只能由字母、数字和“-”组成，最多 18 位，实为“{value}”。"
            )
            return None
        return number
    try:
        return check_id_number(value, birth_date, gender)
    except ValidationError as exc:
        row.error("id_number", " ".join(exc.messages))
        return None


@dataclass(frozen=True)
class Reach:
    """The schools an importer may write to (organisation ids) and what a row naming any
    other is told: the same words whether that code exists or not, so a file never learns
    of another jurisdiction's schools."""

    org_ids: set[int]
    why: str


def _check_school(
    row: SheetRow, schools: dict[str, Organization], reach: Reach | None
) -> Organization | None:
    if "school_code" in row.failed:
        return None
    code = row.values.get("school_code", "")
    if not code:
        row.error("school_code", "不能为空。")
        return None
    school = schools.get(code)
    what = "学校标识码或学校代码" if row.column("school_code") != "school_code" else "学校代码"
    if reach is not None and (school is None or school.id not in reach.org_ids):
        row.error("school_code", f"{what}“{code}”{reach.why}")
        return None
    if school is None:
        row.error("school_code", f"{what}“{code}”不存在：请先导入机构。")
        return None
    if school.level != "school":
        row.error(
            "school_code", f"“{code}”（{school.name}）是{LEVEL_LABELS[school.level]}，不是学校。"
        )
        return None
    return school


def _guardian(members: list[dict] | None) -> tuple[str | None, str | None]:
    """The guardian's name and phone: the member marked 是否监护人=是, else member 1."""
    if not members:
        return None, None
    member = next((m for m in members if m.get("guardian")), members[0])
    return member.get("name"), member.get("phone")


def active_students(id_numbers: Iterable[str]) -> dict[str, Student]:
    """Students already holding an enrolled or suspended status, by ID number."""
    wanted = sorted({n for n in id_numbers if n})
    found: dict[str, Student] = {}
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        if postgresql:  # one array parameter: the server hashes it (2,000 parameters it cannot)
            among = Student.id_number == any_(bindparam("ids", chunk, type_=ARRAY(String)))
        else:
            among = Student.id_number.in_(chunk)
        for student in Student.query.filter(among, Student.status.in_(ACTIVE_STATUSES)):
            found[student.id_number] = student
    return found
