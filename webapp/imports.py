"""Spreadsheet imports of organisations, students and results (CSV or XLSX), all or nothing per file.

Every row is checked before anything is written; a file with one bad row writes nothing
and reports every error by spreadsheet row number (header = row 1) and column. The
functions take the file's bytes, so the command line, the browser and the API share them.
They add to the session and flush; the caller commits (or rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forms.org_rows import ORG_COLUMNS, ORG_SCHOOL_COLUMNS, check_orgs
from forms.result_rows import RESULT_COLUMNS, check_results
from forms.spreadsheets import RowError, UnreadableFile, read_table
from forms.student_rows import STUDENT_COLUMNS, check_students

from .extensions import db
from .models import Organization, Result, Student, User, audit


@dataclass
class ImportResult:
    """What an import did; `errors` non-empty means nothing was written."""

    kind: str
    filename: str
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0  # data rows in the file
    ignored_columns: list[str] = field(default_factory=list)  # in the file, not kept

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_and_check(kind: str, data: bytes, filename: str, check) -> tuple[ImportResult, list]:
    """Read the file and check every row; the result carries the errors (nothing written)."""
    result = ImportResult(kind, filename)
    try:
        table = read_table(data, filename)
    except UnreadableFile as exc:
        result.errors.append(RowError(None, "", str(exc)))
        return result, []
    rows, result.errors = check(table)
    result.rows = len(table.rows)
    known = KNOWN_COLUMNS[kind]
    result.ignored_columns = [c for c in table.columns if c not in known]
    return result, rows


# ---------------------------------------------------------------- both steps, any kind
# Minimal versions on this branch: the spreadsheet branch's check_import/run_import (both
# layouts, streamed, progress per row) replace them at merge.

CHECKS = {
    "orgs": check_orgs,
    "students": lambda table: check_students(table, name_holder=True),
    "results": check_results,
}
KNOWN_COLUMNS = {
    "orgs": ORG_COLUMNS + ORG_SCHOOL_COLUMNS,
    "students": STUDENT_COLUMNS,
    "results": RESULT_COLUMNS,
}


def check_import(kind: str, data: bytes, filename: str) -> ImportResult:
    """Read and check every row of the file; nothing is written."""
    return _read_and_check(kind, data, filename, CHECKS[kind])[0]


def run_import(kind: str, data: bytes, filename: str, user: User | None, progress=None):
    """Check and write in one transaction (flushed; the caller commits or rolls back);
    `progress(done_rows, total_rows)` is told how far it got."""
    result = IMPORTERS[kind](data, filename, user)
    if progress is not None and result.ok:
        progress(result.rows, result.rows)
    return result


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
        }
        org = orgs.get(r.code)
        if org is not None and not r.plan_credits_given:
            wanted["plan_credits"] = org.plan_credits
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
        org.plan_credits = wanted["plan_credits"]
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


IMPORTERS = {"orgs": import_orgs, "students": import_students, "results": import_results}
