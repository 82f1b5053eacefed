"""Withdrawal (退学): the check and the final step (RULES.md §5)."""

from __future__ import annotations

from webapp.models import db

from . import Context, handler
from .certificates import leaving_verdict
from .leaving import StudentFacts, leave, verdict
from .rules import RuleSet
from .school_rules import ACTIVE_STATUS, NO_OPEN_PROCEDURE

COMPULSORY = ("primary", "junior")
# 000 第二十六条.5: compulsory-stage withdrawal only for lost ability, or 16+ with nine years done.
MIN_WITHDRAWAL_AGE = 16
NINE_YEARS_GRADE = 9


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


@handler("withdrawal.check")
def check_withdrawal(ctx: Context) -> dict:
    return verdict(WITHDRAWAL_RULES, ctx)


@handler("withdrawal.finalize")
def finalize_withdrawal(ctx: Context) -> dict:
    """Status 退学, and whether the student is to receive a 肄业 certificate: it is numbered
    and stamped with the cohort's certificates in the graduation verification (验印, 000
    第二部分 第二十五条), never issued here; a refusal names its rule."""
    student, row = leave(ctx, "withdrawal", "withdrawn")
    db.session.flush()
    certificate = leaving_verdict(student)
    if row is not None:
        said = (
            "符合发给肄业证书的条件，证书在本届毕业验印时统一验印、编号发放（000 第二部分 第二十五条）"
            if certificate.ok
            else f"不发给肄业证书（{certificate.rule}）：{certificate.message}"
        )
        ctx.tell_school(student.school_id, "completed", f"学生 {student.name} 已退学，{said}")
    return {
        "status": student.status,
        "leaving_certificate": certificate.result(
            note="肄业证书在毕业验印时统一验印、编号发放（000 第二部分 第二十五条）。"
            if certificate.ok
            else None
        ),
    }
