"""Spreadsheet imports of organisations, students and results (XLSX, XLS or CSV), all or
nothing per file.

Every row is checked; a file with one bad row writes nothing and reports every error (up
to MAX_ERRORS) by sheet row (header = row 1) and by the column's header as the file writes
it. A student file is read as a stream and checked and written in chunks of CHUNK rows
(bulk inserts inside a savepoint, rolled back on the first error found anywhere), so a
100,000-row file neither holds every row in memory nor takes long. The functions take the
file's bytes, so the command line, the browser and the API share them: `check_import`
writes nothing, `run_import` writes and flushes; the caller commits (or rolls back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import insert, text

from forms.org_rows import check_orgs
from forms.result_rows import check_results
from forms.spreadsheets import RowError, UnreadableFile, open_sheet, read_table
from forms.student_rows import Reach, StudentCheck
from handlers.status_numbers import national_numbers
from workflows.jurisdiction import org_ids_in_reach, scope_new_students

from .extensions import db
from .models import Organization, Result, Student, User, audit
from .models.base import copy_rows

CHUNK = 2000
MAX_ERRORS = 200
KINDS = ("students", "orgs", "results")
Progress = Callable[[int, int | None], None]


@dataclass
class ImportResult:
    """What an import found or did; `errors` non-empty means nothing was written."""

    kind: str
    filename: str
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # data rows read
    ignored_columns: list[str] = field(default_factory=list)  # not kept, as the file writes them
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def check_import(kind: str, data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Read and check every row of the file; write nothing. `user` as for `run_import`."""
    if kind == "students":
        return _students(data, filename, user, None, write=False)
    result, _ = _read_and_check(kind, data, filename, CHECKS[kind])
    return result


def run_import(
    kind: str,
    data: bytes,
    filename: str,
    user: User | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check and write the file (flushed; the caller commits or rolls back).

    A student file imported by a user (the browser, the API) may name only the schools in
    the user's reach, and is not told where another school's pupil holds a status; without
    a user (the command line, run by the platform's operators) both are open.

    `progress(done_rows, total_rows_or_None)` is called after every chunk; it must not
    commit this session (write the progress through a connection of its own).
    """
    if kind not in KINDS:
        raise ValueError(f"未知的导入类型“{kind}”：应为 {'、'.join(KINDS)} 之一。")
    if kind == "students":
        return _students(data, filename, user, progress, write=True)
    result = WRITERS[kind](data, filename, user)
    if progress is not None:
        progress(result.rows, result.rows)
    return result


def _read_and_check(kind: str, data: bytes, filename: str, check) -> tuple[ImportResult, list]:
    """Read the file and check every row; the result carries the errors (nothing written)."""
    result = ImportResult(kind, filename)
    try:
        table = read_table(data, filename)
    except UnreadableFile as exc:
        result.errors.append(RowError(None, "", str(exc)))
        return result, []
    result.rows = len(table.rows)
    rows, errors = check(table)
    result.errors = _capped(errors)
    return result, rows


def _capped(errors: list[RowError], more: int = 0) -> list[RowError]:
    more += max(len(errors) - MAX_ERRORS, 0)
    shown = errors[:MAX_ERRORS]
    return shown + ([RowError(None, "", f"另有 {more} 处问题未列出。")] if more else [])


# ---------------------------------------------------------------- organisations


def _org_fields(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "level": org.level,
        "parent_code": org.parent.code if org.parent else None,
        "stages": org.stages,
        "ownership": org.ownership,
        "star": org.star,
        "plan_credits": org.plan_credits,
        "identifier": org.identifier,
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
            "plan_credits": r.plan_credits,
            "identifier": r.identifier,
        }
        org = orgs.get(r.code)
        if org is not None and not r.plan_credits_given:
            wanted["plan_credits"] = org.plan_credits
        if org is not None and not r.identifier_given:
            wanted["identifier"] = org.identifier
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
        org.plan_credits, org.identifier = wanted["plan_credits"], wanted["identifier"]
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


def import_students(data: bytes, filename: str, user: User | None = None) -> ImportResult:
    """Create enrolled students numbered as the national system numbers them; all or none."""
    return run_import("students", data, filename, user)


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _students(
    data: bytes, filename: str, user: User | None, progress: Progress | None, write: bool
) -> ImportResult:
    """Stream the sheet through the checks; write each clean chunk while no error is found,
    and undo every chunk written (the savepoint) once one is."""
    result = ImportResult("students", filename)
    try:
        sheet = open_sheet(data, filename)
    except UnreadableFile as exc:
        result.errors.append(RowError(None, "", str(exc)))
        return result
    operator = user is None or user.role == "admin"
    checker = StudentCheck(sheet.columns, name_holder=operator, reach=_reach(user))
    result.ignored_columns = checker.ignored_columns
    errors, more = checker.missing(), 0
    if errors:
        result.errors = errors
        return result
    savepoint = db.session.begin_nested() if write else None
    per_school: Counter[str] = Counter()
    try:
        for chunk in _chunks(sheet.rows, CHUNK):
            checked = checker.check(chunk, errors)
            result.rows += len(chunk)
            if write and not errors and not more:
                result.created += _write_students(checked, per_school)
            if len(errors) > MAX_ERRORS:
                more += len(errors) - MAX_ERRORS
                del errors[MAX_ERRORS:]
            if progress is not None:
                progress(result.rows, sheet.total)
    except UnreadableFile as exc:
        errors.append(RowError(None, "", str(exc)))
    result.errors = _capped(errors, more)
    if result.errors:
        result.created = 0
        if savepoint is not None:
            savepoint.rollback()
        return result
    if savepoint is not None:
        savepoint.commit()
        audit(
            user,
            "import.students",
            after={"file": filename, "created": result.created, "schools": dict(per_school)},
        )
    return result


def _reach(user: User | None) -> Reach | None:
    ids = org_ids_in_reach(user) if user is not None else None
    if ids is None:
        return None
    if user.role == "school":
        return Reach(ids, "不是本校的代码：学校只能导入本校的学生。")
    return Reach(ids, "不是本单位所辖学校的代码：只能导入所辖学校的学生。")


def _write_students(checked: list[dict[str, Any]], per_school: Counter[str]) -> int:
    """One chunk's records in one bulk insert, with their scope rows."""
    if not checked:
        return 0
    numbers = national_numbers(checked)
    records = []
    for values, number in zip(checked, numbers, strict=True):
        school = values["school"]
        per_school[school.code] += 1
        record = {k: v for k, v in values.items() if k != "school"}
        records.append(
            record | {"school_id": school.id, "status": "enrolled", "status_number": number}
        )
    ids = _insert_students(records)
    scope_new_students(zip(ids, (r["school_id"] for r in records), strict=True))
    return len(records)


def _insert_students(records: list[dict[str, Any]]) -> list[int]:
    """Insert the rows and return their ids; on PostgreSQL ids drawn from the sequence and
    one COPY."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return list(
            db.session.execute(
                insert(Student).returning(Student.id, sort_by_parameter_order=True), records
            ).scalars()
        )
    ids = list(connection.execute(_NEXT_IDS, {"n": len(records)}).scalars())
    columns = ["id", *records[0]]
    copy_rows(
        Student.__table__,
        columns,
        ([id_, *record.values()] for id_, record in zip(ids, records, strict=True)),
    )
    return ids


_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('student', 'id')) FROM generate_series(1, :n)"
)


# ---------------------------------------------------------------- results


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


CHECKS = {"orgs": check_orgs, "results": check_results}
WRITERS = {"orgs": import_orgs, "results": import_results}
