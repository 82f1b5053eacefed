"""What withdrawal (退学) and cancellation (注销) share: the facts about the student, the
verdict of a rule set, and the record leaving school (RULES.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webapp.models import Student, china_today, db

from . import Context
from .records import change_record
from .rules import RuleSet
from .schooling import months_studied


@dataclass
class StudentFacts:
    instance_id: int
    student: Student
    reason: str
    today: date

    @property
    def age(self) -> int:
        b = self.student.birth_date
        return self.today.year - b.year - ((self.today.month, self.today.day) < (b.month, b.day))

    @property
    def years_studied(self) -> int:
        """Whole school years since entry (a school year starts on 1 September)."""
        start = date(self.student.entry_year, 9, 1)
        return max(0, (self.today - start).days // 365)

    @property
    def months_studied(self) -> int:
        """Months of schooling studied: from the record and its history, suspensions not
        counted (handlers/schooling.py; 000 第二十六条.5)."""
        return months_studied(self.student, self.today)

    @property
    def studied_text(self) -> str:
        years, months = divmod(self.months_studied, 12)
        return f"{years} 年" + (f" {months} 个月" if months else "")


def student_facts(ctx: Context) -> StudentFacts:
    return StudentFacts(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, ctx.data["student_id"]),
        reason=ctx.data["reason"],
        today=china_today(),
    )


def verdict(rules: RuleSet, ctx: Context) -> dict:
    return rules.first_failure(student_facts(ctx)).result()


def leave(ctx: Context, procedure: str, status: str):
    """The record leaves school; a borrowing ends with it, and the host school is told."""
    student = db.session.get(Student, ctx.data["student_id"])
    changes: dict = {"status": status}
    host = student.borrow_host_id
    if host is not None:
        changes.update(borrow_host_id=None, borrow_start=None, borrow_end=None)
    return change_record(ctx, procedure, changes, (host,) if host else ())
