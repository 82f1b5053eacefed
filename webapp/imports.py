"""Spreadsheet imports of organisations, students and results (CSV or XLSX), all or nothing per file.

Every row is checked before anything is written; a file with one bad row writes nothing
and reports every error by spreadsheet row number (header = row 1) and column. The
functions take the file's bytes, so the command line, the browser and the API share them.
They add to the session and flush; the caller commits (or rolls back).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any, NamedTuple

from marshmallow import ValidationError
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from forms.validators import check_id_number

from .extensions import db
from .guard import text_problem
from .models import (
    ACTIVE_STATUSES,
    LEVEL_LABELS,
    LEVELS,
    RESULT_KINDS,
    STAGES,
    STATUS_LABELS,
    Organization,
    Result,
    Student,
    User,
    audit,
)

ORG_COLUMNS = ("code", "name", "level", "parent_code")
ORG_SCHOOL_COLUMNS = ("stage", "ownership", "star")
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
OWNERSHIPS = ("public", "private")
GENDERS = ("M", "F")
# The level an organisation's parent must have; a city may stand without a province.
PARENT_LEVEL = {"province": None, "city": "province", "county": "city", "school": "county"}
STAGE_GRADES = {
    "primary": range(1, 7),
    "junior": range(7, 10),
    "senior": range(10, 13),
    "vocational": range(10, 13),
}
STAGE_LABELS = {"primary": "小学", "junior": "初中", "senior": "高中", "vocational": "中职"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"\d+")
_PHONE = re.compile(r"[0-9+\-() ]{7,20}")


class RowError(NamedTuple):
    """One problem in an import file: spreadsheet row (None for the whole file), column, message."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"第 {self.row} 行，字段 {self.field}：{self.message}"


@dataclass
class ImportResult:
    """What an import did; `errors` non-empty means nothing was written."""

    kind: str
    filename: str
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Table:
    """A sheet as text: lower-cased column names and (spreadsheet row number, values) pairs."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


class UnreadableFile(ValueError):
    """The file is not a CSV (UTF-8) or XLSX sheet we can read; the message says why."""


def read_table(data: bytes, filename: str) -> Table:
    """Read the first sheet of an XLSX file or a UTF-8 CSV (with or without BOM).

    Blank rows are skipped but keep their place in the numbering, so row numbers are the
    ones the user sees in Excel.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(data)
    elif suffix == ".csv":
        records = _csv_records(data)
    elif suffix == ".xls":
        raise UnreadableFile("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或“CSV UTF-8”后再导入。")
    else:
        raise UnreadableFile(f"无法识别文件“{filename}”的类型：只接受 .csv 或 .xlsx 文件。")
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in records:
        values = [_text(v) for v in raw]
        _check_cells(values, header, number)
        if not any(values):
            continue
        if header is None:
            header = [v.lower() for v in values]
            _check_header(header, number)
            continue
        rows.append(
            (number, dict(zip(header, values + [""] * (len(header) - len(values)), strict=False)))
        )
    if header is None:
        raise UnreadableFile(f"文件“{filename}”是空的：第 1 行应为列名。")
    return Table(columns=header, rows=rows)


def _check_cells(values: list[str], header: list[str] | None, number: int) -> None:
    """No cell may carry what a text column refuses (NUL, a lone surrogate)."""
    for index, value in enumerate(values):
        problem = text_problem(value)
        if problem:
            column = header[index] if header and index < len(header) else f"第 {index + 1} 列"
            raise UnreadableFile(f"第 {number} 行，字段 {column}：{problem}")


def records_table(records: Iterable[dict[str, Any]], columns: Iterable[str] = ()) -> Table:
    """Rows given as objects (the JSON API, a list kept in an instance) as a Table.

    Rows are numbered 1..n as the user sees them; keys are lower-cased and values become
    the text a sheet cell would give. Every one of `columns` counts as present, so a key a
    row leaves out reads as an empty cell of that row ("不能为空"), not as a missing column.
    """
    header = list(columns)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=1):
        values = {str(k).strip().lower(): _record_text(v) for k, v in record.items()}
        header += [k for k in values if k not in header]
        rows.append((number, values))
    return Table(columns=header, rows=rows)


def _record_text(value: Any) -> str:
    if isinstance(value, bool):  # JSON true / false, e.g. a flag column
        return "1" if value else ""
    return _text(value)


def _check_header(header: list[str], number: int) -> None:
    while header and not header[-1]:
        header.pop()
    if "" in header:
        raise UnreadableFile(f"第 {number} 行（列名行）第 {header.index('') + 1} 列没有列名。")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise UnreadableFile(f"第 {number} 行（列名行）中列名重复：{'、'.join(repeated)}。")


def _csv_records(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            "CSV 文件不是 UTF-8 编码：请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”后再导入。"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[Any]]] = []
    try:
        for row in reader:
            rows.append((len(rows) + 1, row))
    except csv.Error as exc:  # a cell past csv.field_size_limit(), or a broken quote
        limit = csv.field_size_limit()
        raise UnreadableFile(
            f"CSV 文件第 {len(rows) + 1} 行无法读取：单元格不能超过 {limit} 个字符"
            "（或引号未配对）。"
        ) from exc
    return rows


def _xlsx_records(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        sheet = load_workbook(io.BytesIO(data), data_only=True).worksheets[0]
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile("无法读取 XLSX 文件：文件已损坏或不是 Excel 工作簿。") from exc
    return enumerate(sheet.iter_rows(values_only=True), start=sheet.min_row)


def _text(value: Any) -> str:
    """A cell as the text the user typed: 3212.0 → "3212", a date cell → "2015-03-01"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Row:
    """Typed reads of one row's cells; each failed read adds an error naming row and column."""

    def __init__(self, number: int, values: dict[str, str], errors: list[RowError]):
        self.number = number
        self.values = values
        self.errors = errors

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def text(self, column: str, max_len: int, required: bool = False) -> str | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, "不能为空。")
            return None
        if len(value) > max_len:
            self.error(column, f"不能超过 {max_len} 个字符。")
            return None
        return value

    def choice(self, column: str, options: Iterable[str], required: bool = True) -> str | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, "不能为空。")
            return None
        if value not in options:
            self.error(column, f"应为 {'、'.join(options)} 之一，实为“{value}”。")
            return None
        return value

    def integer(self, column: str, low: int, high: int, required: bool = True) -> int | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, "不能为空。")
            return None
        if not _DIGITS.fullmatch(value):
            self.error(column, f"应为整数，实为“{value}”。")
            return None
        if not low <= int(value) <= high:
            self.error(column, f"应在 {low} 到 {high} 之间，实为 {int(value)}。")
            return None
        return int(value)

    def day(self, column: str) -> date | None:
        value = self.values.get(column, "")
        if not value:
            self.error(column, "不能为空。")
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.error(column, f"日期应为 YYYY-MM-DD 格式的有效日期，实为“{value}”。")
            return None


def _read_and_check(kind: str, data: bytes, filename: str, check) -> tuple[ImportResult, list]:
    """Read the file and check every row; the result carries the errors (nothing written)."""
    result = ImportResult(kind, filename)
    try:
        table = read_table(data, filename)
    except UnreadableFile as exc:
        result.errors.append(RowError(None, "", str(exc)))
        return result, []
    rows, result.errors = check(table)
    return result, rows


def _missing_columns(table: Table, required: Iterable[str]) -> list[RowError]:
    return [RowError(1, c, "缺少此列。") for c in required if c not in table.columns]


# ---------------------------------------------------------------- organisations


@dataclass
class OrgRow:
    """A checked organisation row, ready to create or update."""

    row: int
    code: str
    name: str
    level: str
    parent_code: str | None
    stages: str | None
    ownership: str | None
    star: int | None


def check_orgs(table: Table) -> tuple[list[OrgRow], list[RowError]]:
    """Check every organisation row against the file so far and the database."""
    errors = _missing_columns(table, ORG_COLUMNS)
    if errors:
        return [], errors
    codes = {v.get("code", "") for _, v in table.rows} | {
        v.get("parent_code", "") for _, v in table.rows
    }
    existing = {o.code: o for o in Organization.query.filter(Organization.code.in_(codes - {""}))}
    seen: dict[str, OrgRow] = {}
    checked: list[OrgRow] = []
    for number, values in table.rows:
        row = _Row(number, values, errors)
        before = len(errors)
        code = row.text("code", 32, required=True)
        name = row.text("name", 128, required=True)
        level = row.choice("level", LEVELS)
        parent_code = row.text("parent_code", 32)
        if code and code in seen:
            row.error("code", f"机构代码“{code}”与第 {seen[code].row} 行重复。")
        elif code and level and code in existing and existing[code].level != level:
            old = existing[code].level
            row.error(
                "level",
                f"机构“{code}”已存在，层级为{LEVEL_LABELS[old]}（{old}），不能改为 {level}。",
            )
        if level:
            _check_parent(row, level, parent_code, seen, existing)
        stages, ownership, star = _school_fields(row, level)
        if code and name and level and len(errors) == before:
            item = OrgRow(number, code, name, level, parent_code, stages, ownership, star)
            seen[code] = item
            checked.append(item)
    return checked, errors


def _check_parent(
    row: _Row,
    level: str,
    parent_code: str | None,
    seen: dict[str, OrgRow],
    existing: dict[str, Organization],
) -> None:
    wanted = PARENT_LEVEL[level]
    if parent_code is None:
        if wanted is not None and level != "city":
            row.error("parent_code", f"{LEVEL_LABELS[level]}必须填写上级机构代码。")
        return
    if wanted is None:
        row.error("parent_code", "省级机构不能有上级机构。")
        return
    if parent_code in seen:
        parent_level = seen[parent_code].level
    elif parent_code in existing:
        parent_level = existing[parent_code].level
    else:
        row.error(
            "parent_code", f"上级机构“{parent_code}”不存在：须已在系统中，或在本文件中先出现。"
        )
        return
    if parent_level != wanted:
        row.error(
            "parent_code",
            f"{LEVEL_LABELS[level]}的上级应为{LEVEL_LABELS[wanted]}，“{parent_code}”是{LEVEL_LABELS[parent_level]}。",
        )


def _school_fields(row: _Row, level: str | None) -> tuple[str | None, str | None, int | None]:
    """stage, ownership and star: required (star optional) for schools, empty for others."""
    if level != "school":
        for column in ORG_SCHOOL_COLUMNS:
            if row.values.get(column):
                row.error(column, "只有学校（level 为 school）填写此列。")
        return None, None, None
    stages = None
    raw = row.values.get("stage", "")
    if not raw:
        row.error(
            "stage", "学校必须填写学段（primary、junior、senior、vocational，多个用 + 连接）。"
        )
    else:
        parts = [p.strip() for p in raw.split("+")]
        unknown = [p for p in parts if p not in STAGES]
        if unknown:
            row.error("stage", f"学段应为 {'、'.join(STAGES)}，多个用 + 连接，实为“{raw}”。")
        else:
            stages = "+".join(s for s in STAGES if s in parts)
    ownership = row.choice("ownership", OWNERSHIPS)
    star = row.integer("star", 1, 5, required=False)
    return stages, ownership, star


def _org_fields(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "level": org.level,
        "parent_code": org.parent.code if org.parent else None,
        "stages": org.stages,
        "ownership": org.ownership,
        "star": org.star,
    }


def import_orgs(data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Create or update organisations by code; an unchanged row is left alone."""
    result, rows = _read_and_check("orgs", data, filename, check_orgs)
    if result.errors:
        return result
    codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
    orgs = {o.code: o for o in Organization.query.filter(Organization.code.in_(codes))}
    created: list[str] = []
    before: dict[str, dict] = {}
    after: dict[str, dict] = {}
    for r in rows:
        wanted = {
            "name": r.name,
            "level": r.level,
            "parent_code": r.parent_code,
            "stages": r.stages,
            "ownership": r.ownership,
            "star": r.star,
        }
        org = orgs.get(r.code)
        if org is None:
            org = orgs[r.code] = Organization(code=r.code)
            db.session.add(org)
            created.append(r.code)
        else:
            old = _org_fields(org)
            if old == wanted:
                result.unchanged += 1
                continue
            before[r.code], after[r.code] = old, wanted
        org.name, org.level = r.name, r.level
        org.parent = orgs[r.parent_code] if r.parent_code else None
        org.stages, org.ownership, org.star = r.stages, r.ownership, r.star
    result.created, result.updated = len(created), len(after)
    db.session.flush()
    audit(
        user,
        "import.orgs",
        before=before,
        after={
            "file": filename,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "created_codes": created,
            "changes": after,
        },
    )
    return result


# ---------------------------------------------------------------- students


RowCheck = Callable[["_Row", dict[str, Any]], None]


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
    errors = _missing_columns(table, STUDENT_REQUIRED)
    if errors:
        return [], errors
    school_codes = {v.get("school_code", "") for _, v in table.rows}
    schools = {o.code: o for o in Organization.query.filter(Organization.code.in_(school_codes))}
    active = _active_students(v.get("id_number", "").upper() for _, v in table.rows)
    first_row: dict[str, int] = {}
    checked: list[dict[str, Any]] = []
    for number, values in table.rows:
        row = _Row(number, values, errors)
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
        if household_code and not (_DIGITS.fullmatch(household_code) and len(household_code) >= 6):
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


def _check_id(row: _Row, birth_date: date | None, gender: str | None) -> str | None:
    value = row.values.get("id_number", "")
    if not value:
        row.error("id_number", "不能为空。")
        return None
    try:
        return check_id_number(value, birth_date, gender)
    except ValidationError as exc:
        row.error("id_number", " ".join(exc.messages))
        return None


def _check_school(row: _Row, schools: dict[str, Organization]) -> Organization | None:
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


def _active_students(id_numbers: Iterable[str]) -> dict[str, Student]:
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


def import_students(data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Create enrolled students with status number G + ID number; all rows or none."""
    result, rows = _read_and_check(
        "students", data, filename, lambda table: check_students(table, name_holder=True)
    )
    if result.errors:
        return result
    per_school: dict[str, int] = {}
    for values in rows:
        db.session.add(
            Student(**values, status="enrolled", status_number="G" + values["id_number"])
        )
        code = values["school"].code
        per_school[code] = per_school.get(code, 0) + 1
    result.created = len(rows)
    db.session.flush()
    audit(
        user,
        "import.students",
        after={"file": filename, "created": result.created, "schools": per_school},
    )
    return result


# ---------------------------------------------------------------- results

RESULT_COLUMNS = ("id_number", "term", "subject", "kind", "result", "credits")
RESULT_REQUIRED = ("id_number", "term", "subject", "kind", "result")
RESULTS = ("pass", "fail")
_CREDITS = re.compile(r"\d{1,3}(\.\d)?")


def check_results(table: Table) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Check every result row: a student holding a status, a known kind, pass or fail."""
    errors = _missing_columns(table, RESULT_REQUIRED)
    if errors:
        return [], errors
    active = _active_students(v.get("id_number", "").upper() for _, v in table.rows)
    checked: list[dict[str, Any]] = []
    for number, values in table.rows:
        row = _Row(number, values, errors)
        before = len(errors)
        id_number = row.text("id_number", 18, required=True)
        student = active.get(id_number.upper()) if id_number else None
        if id_number and student is None:
            row.error("id_number", f"身份证号“{id_number}”没有在籍或休学的学籍。")
        term = row.text("term", 32, required=True)
        subject = row.text("subject", 64, required=True)
        kind = row.choice("kind", RESULT_KINDS)
        result = row.choice("result", RESULTS)
        credits = values.get("credits", "")
        if credits and not _CREDITS.fullmatch(credits):
            row.error("credits", f"学分应为不超过一位小数的非负数，实为“{credits}”。")
        if len(errors) == before:
            checked.append(
                {
                    "student": student,
                    "term": term,
                    "subject": subject,
                    "kind": kind,
                    "result": result,
                    "credits": Decimal(credits) if credits else None,
                }
            )
    return checked, errors


def import_results(data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Record levels; a later row for the same student, term and subject (a make-up) becomes
    the current one and the earlier stays in the history. All rows or none."""
    result, rows = _read_and_check("results", data, filename, check_results)
    if result.errors:
        return result
    student_ids = {r["student"].id for r in rows}
    current: dict[tuple[int, str, str], Result] = {}
    for start in range(0, len(student_ids), 500):
        chunk = sorted(student_ids)[start : start + 500]
        for old in Result.query.filter(Result.student_id.in_(chunk), Result.current.is_(True)):
            current[(old.student_id, old.term, old.subject)] = old
    for values in rows:
        student = values.pop("student")
        key = (student.id, values["term"], values["subject"])
        if key in current:
            current[key].current = False
            result.updated += 1
        else:
            result.created += 1
        current[key] = Result(student_id=student.id, source=filename, current=True, **values)
        db.session.add(current[key])
    db.session.flush()
    audit(
        user,
        "import.results",
        after={"file": filename, "rows": len(rows), "replaced": result.updated},
    )
    return result
