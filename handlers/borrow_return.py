"""The end of a borrow-study (借读结束, 返回原校): the rule checks and the final step.

RULES.md §3. The borrowing columns are cleared; what the host school recorded travels back
on the history row, its results become result rows in the host's name (the graduation tables
read them), and the host keeps a read-only copy of the record it hosted (000 说明5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, tuple_, update

from webapp.models import HostedCopy, Organization, Result, Student, db

from . import Context, handler
from .borrow import iso_date
from .records import change_record
from .rules import RuleSet
from .school_rules import NO_OPEN_PROCEDURE


@dataclass
class ReturnFacts:
    instance_id: int
    student: Student
    host_id: int | None
    end_date: date

    @property
    def borrow_start(self) -> str:
        start = self.student.borrow_start
        return start.isoformat() if start else ""


# No active-status rule here: a borrowing must be able to end whatever became of the status.
RETURN_RULES = RuleSet()
RETURN_RULES.add(NO_OPEN_PROCEDURE)


@RETURN_RULES.rule(
    "currently_borrowing", "该学生目前不在借读，无需办理借读结束。", source="000 第十五条 说明5"
)
def _currently_borrowing(f: ReturnFacts) -> bool:
    return f.student.borrow_host_id is not None and f.student.borrow_host_id == f.host_id


@RETURN_RULES.rule(
    "end_date_after_start",
    "借读结束日期不能早于借读开始日期（{f.borrow_start}）。",
    source="平台规则：借读期间前后一致（000 第十五条）",
)
def _end_date_after_start(f: ReturnFacts) -> bool:
    return f.student.borrow_start is None or f.end_date >= f.student.borrow_start


def _return_facts(ctx: Context) -> ReturnFacts:
    data = ctx.data
    return ReturnFacts(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, data["student_id"]),
        host_id=data.get("to_school_id"),
        end_date=iso_date(data["end_date"]),
    )


@handler("borrow_return.check")
def check_return(ctx: Context) -> dict:
    return RETURN_RULES.first_failure(_return_facts(ctx)).result()


# The fields of the record a host keeps (000 说明5), as they stood when the borrowing ended.
COPIED = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "ethnicity",
    "grade",
    "class_name",
    "entry_year",
    "status_number",
    "borrow_start",
    "borrow_end",
)


def _copy_of(student: Student, data: dict) -> dict:
    record = {key: getattr(student, key) for key in COPIED}
    for key in ("birth_date", "borrow_start", "borrow_end"):
        record[key] = record[key].isoformat() if record[key] else None
    return {
        **record,
        "home_school": student.school.name,
        "returned_on": data["end_date"],
        "results": data["results"],
    }


def _keep_results(ctx: Context, student: Student, host: Organization) -> int:
    """The host's results as current result rows in its name; a row they replace (the same
    term, subject and kind) stays as history, as a make-up exam's does."""
    rows = ctx.data.get("result_rows") or []
    if not rows:
        return 0
    keys = [(r["term"], r["subject"], r["kind"]) for r in rows]
    db.session.execute(
        update(Result)
        .where(
            Result.student_id == student.id,
            Result.current.is_(True),
            tuple_(Result.term, Result.subject, Result.kind).in_(keys),
        )
        .values(current=False)
    )
    source = f"借读学校：{host.name}（借读结束，业务编号 {ctx.instance.id}）"
    values = [
        {
            "student_id": student.id,
            "school_id": host.id,
            "term": r["term"],
            "subject": r["subject"],
            "kind": r["kind"],
            "result": r["result"],
            "credits": Decimal(r["credits"]) if r.get("credits") else None,
            "current": True,
            "source": source,
        }
        for r in rows
    ]
    db.session.execute(insert(Result), values)
    return len(values)


@handler("borrow_return.finalize")
def finalize_return(ctx: Context) -> dict:
    """End the borrowing; what the host recorded travels back on the history row and as
    result rows, and the host keeps its copy of the record."""
    data = ctx.data
    host_id = data["to_school_id"]
    student = db.session.get(Student, data["student_id"])
    copy = _copy_of(student, data)
    changes = {"borrow_host_id": None, "borrow_start": None, "borrow_end": None}
    noted = {"borrow_returned_on": data["end_date"], "borrow_results": data["results"]}
    student, row = change_record(ctx, "borrow_return", changes, (host_id,), noted)
    if row is None:  # already done: nothing is kept twice
        return {"borrowing": student.borrow_host_id is not None, "history_id": None}
    host = db.session.get(Organization, host_id)
    kept = _keep_results(ctx, student, host)
    db.session.add(
        HostedCopy(host_id=host_id, student_id=student.id, instance_id=ctx.instance.id, record=copy)
    )
    db.session.flush()
    return {
        "borrowing": student.borrow_host_id is not None,
        "history_id": row.id,
        "results_kept": kept,
    }
