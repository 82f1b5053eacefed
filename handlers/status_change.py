"""Withdrawal (退学) and cancellation (注销): checks and the final step (RULES.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webapp.extensions import db
from webapp.models import Student

from . import Context, handler
from .records import change_record, issue_certificate
from .rules import RuleSet
from .school_rules import ACTIVE_STATUS, NO_OPEN_PROCEDURE

COMPULSORY = ("primary", "junior")
# 000 第二十六条.5: compulsory-stage withdrawal only for lost ability, or 16+ with nine years done.
MIN_WITHDRAWAL_AGE = 16
NINE_YEARS_GRADE = 9


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


def _facts(ctx: Context) -> StudentFacts:
    return StudentFacts(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, ctx.data["student_id"]),
        reason=ctx.data["reason"],
        today=date.today(),
    )


WITHDRAWAL_RULES = RuleSet()
WITHDRAWAL_RULES.add(ACTIVE_STATUS)
WITHDRAWAL_RULES.add(NO_OPEN_PROCEDURE)


@WITHDRAWAL_RULES.rule(
    "compulsory_withdrawal",
    "义务教育阶段学生不得退学，除非丧失学习能力，或年满16周岁且已完成九年义务教育（本人及监护人书面申请）。",
)
def _compulsory_withdrawal(f: StudentFacts) -> bool:
    if f.student.stage not in COMPULSORY or f.reason == "lost_ability":
        return True
    if f.reason == "nine_years_completed":
        return f.age >= MIN_WITHDRAWAL_AGE and f.student.grade >= NINE_YEARS_GRADE
    return False


CANCELLATION_RULES = RuleSet()
CANCELLATION_RULES.add(ACTIVE_STATUS)
CANCELLATION_RULES.add(NO_OPEN_PROCEDURE)


def _verdict(rules: RuleSet, ctx: Context) -> dict:
    return rules.first_failure(_facts(ctx)).result()


@handler("withdrawal.check")
def check_withdrawal(ctx: Context) -> dict:
    return _verdict(WITHDRAWAL_RULES, ctx)


@handler("cancellation.check")
def check_cancellation(ctx: Context) -> dict:
    return _verdict(CANCELLATION_RULES, ctx)


def _leave(ctx: Context, procedure: str, status: str):
    """The record leaves school; a borrowing ends with it, and the host school is told."""
    student = db.session.get(Student, ctx.data["student_id"])
    changes: dict = {"status": status}
    host = student.borrow_host_id
    if host is not None:
        changes.update(borrow_host_id=None, borrow_start=None, borrow_end=None)
    return change_record(ctx, procedure, changes, (host,) if host else ())


@handler("withdrawal.finalize")
def finalize_withdrawal(ctx: Context) -> dict:
    """Status 退学; a student who studied at least one year gets a 肄业 certificate record."""
    facts = _facts(ctx)
    student, row = _leave(ctx, "withdrawal", "withdrawn")
    number = None
    if row is not None and facts.years_studied >= 1:
        number = f"YY{facts.today.year}{student.school.code}{ctx.instance.id:06d}"
        issue_certificate(ctx, student, "肄业证书", number)
    db.session.flush()
    return {"status": student.status, "certificate": number}


@handler("cancellation.finalize")
def finalize_cancellation(ctx: Context) -> dict:
    """Status 注销: no procedure accepts the record again (every check requires an active status)."""
    student, _ = _leave(ctx, "cancellation", "cancelled")
    return {"status": student.status}
