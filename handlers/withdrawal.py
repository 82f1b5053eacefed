"""Withdrawal (退学): the check and the final step (RULES.md §5)."""

from __future__ import annotations

from webapp.models import db

from . import Context, handler
from .leaving import StudentFacts, leave, student_facts, verdict
from .records import issue_certificate
from .rules import RuleSet
from .school_rules import ACTIVE_STATUS, NO_OPEN_PROCEDURE

COMPULSORY = ("primary", "junior")
# 000 第二十六条.5: compulsory-stage withdrawal only for lost ability, or 16+ with nine years of
# compulsory schooling studied ("累计已经学满九年义务教育年限": years studied, not grade 9).
MIN_WITHDRAWAL_AGE = 16
NINE_YEARS_MONTHS = 9 * 12


WITHDRAWAL_RULES = RuleSet()
WITHDRAWAL_RULES.add(ACTIVE_STATUS)
WITHDRAWAL_RULES.add(NO_OPEN_PROCEDURE)


@WITHDRAWAL_RULES.rule(
    "compulsory_withdrawal",
    "义务教育阶段学生不得退学，除非丧失学习能力，或累计已经学满九年义务教育年限并年满十六周岁"
    "（本人及监护人书面申请，000 第二十六条.5）；该生现年 {f.age} 周岁，按学籍记录累计在校学习"
    "{f.studied_text}（休学期间不计）。",
)
def _compulsory_withdrawal(f: StudentFacts) -> bool:
    if f.student.stage not in COMPULSORY or f.reason == "lost_ability":
        return True
    if f.reason == "nine_years_completed":
        return f.age >= MIN_WITHDRAWAL_AGE and f.months_studied >= NINE_YEARS_MONTHS
    return False


@handler("withdrawal.check")
def check_withdrawal(ctx: Context) -> dict:
    return verdict(WITHDRAWAL_RULES, ctx)


@handler("withdrawal.finalize")
def finalize_withdrawal(ctx: Context) -> dict:
    """Status 退学; a student who studied at least one year gets a 肄业 certificate record."""
    facts = student_facts(ctx)
    student, row = leave(ctx, "withdrawal", "withdrawn")
    number = None
    if row is not None and facts.years_studied >= 1:
        number = f"YY{facts.today.year}{student.school.code}{ctx.instance.id:06d}"
        issue_certificate(ctx, student, "肄业证书", number)
    db.session.flush()
    return {"status": student.status, "certificate": number}
