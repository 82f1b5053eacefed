"""The end of a borrow-study (借读结束, 返回原校): the rule checks and the final step.

RULES.md §3. The borrowing columns are cleared; what the host school recorded travels back
on the history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webapp.models import Student, db

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


@RETURN_RULES.rule("currently_borrowing", "该学生目前不在借读，无需办理借读结束。")
def _currently_borrowing(f: ReturnFacts) -> bool:
    return f.student.borrow_host_id is not None and f.student.borrow_host_id == f.host_id


@RETURN_RULES.rule("end_date_after_start", "借读结束日期不能早于借读开始日期（{f.borrow_start}）。")
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


@handler("borrow_return.finalize")
def finalize_return(ctx: Context) -> dict:
    """End the borrowing; what the host recorded travels back on the history row."""
    data = ctx.data
    host_id = data["to_school_id"]
    changes = {"borrow_host_id": None, "borrow_start": None, "borrow_end": None}
    noted = {"borrow_returned_on": data["end_date"], "borrow_results": data["results"]}
    student, row = change_record(ctx, "borrow_return", changes, (host_id,), noted)
    return {"borrowing": student.borrow_host_id is not None, "history_id": row.id if row else None}
