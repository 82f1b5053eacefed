"""Withdrawal (退学): the check and the final step (RULES.md §5).

A senior student absent without leave is withdrawn automatically after written reminders
(000 ⑦ 第二十二条): a reason of this procedure, since its chain is the same — the school
records it, a second registrar reviews, the county files it — and it ends in the same status;
its own rules judge the absence and the reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from dateutil.relativedelta import relativedelta

from forms.withdrawal import ABSENT_WITHOUT_LEAVE
from webapp.models import china_today, db

from . import Context, handler
from .certificates import leaving_verdict
from .leaving import StudentFacts, leave, student_facts
from .rules import RuleSet
from .school_rules import ACTIVE_STATUS, NO_OPEN_PROCEDURE

COMPULSORY = ("primary", "junior")
# 000 第二十六条.5: compulsory-stage withdrawal only for lost ability, or 16+ with nine years of
# compulsory schooling studied ("累计已经学满九年义务教育年限": years studied, not grade 9).
MIN_WITHDRAWAL_AGE = 16
NINE_YEARS_MONTHS = 9 * 12


@dataclass
class WithdrawalFacts(StudentFacts):
    absent_since: date | None = None  # 擅自离校日期
    reminded_on: date | None = None  # the school's last written reminder (督促返校)

    @property
    def absent(self) -> bool:
        return self.reason == ABSENT_WITHOUT_LEAVE

    @property
    def month_after(self) -> date:
        return self.absent_since + relativedelta(months=1)


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


@WITHDRAWAL_RULES.rule(
    "absence_senior_only",
    "擅自离校按自动退学处理只适用于普通高中学生（000 ⑦ 第二十二条“高中学生擅自离校”）。",
)
def _absence_senior_only(f: WithdrawalFacts) -> bool:
    return not f.absent or f.student.stage == "senior"


@WITHDRAWAL_RULES.rule(
    "absence_not_suspended",
    "该学生处于休学状态，不属擅自离校，不能按擅自离校作自动退学处理（000 ⑦ 第二十二条）。",
)
def _absence_not_suspended(f: WithdrawalFacts) -> bool:
    return not f.absent or f.student.status != "suspended"


@WITHDRAWAL_RULES.rule(
    "absence_over_a_month",
    "学生擅自离校一个月以上，学校方可作自动退学处理（000 ⑦ 第二十二条）：{f.absent_since} "
    "离校，{f.month_after} 以后方可办理。",
)
def _absence_over_a_month(f: WithdrawalFacts) -> bool:
    return not f.absent or f.month_after < f.today


@WITHDRAWAL_RULES.rule(
    "absence_reminded",
    "未记录书面督促返校：学校应先通过信函等方式督促学生返校，并将督促材料副本存档，"
    "督促日期应在离校之后、办理之前（000 ⑦ 第二十二条）。",
)
def _absence_reminded(f: WithdrawalFacts) -> bool:
    if not f.absent:
        return True
    return f.reminded_on is not None and f.absent_since <= f.reminded_on <= f.today


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def withdrawal_facts(ctx: Context) -> WithdrawalFacts:
    """The student's facts on the China date (the month of absence is counted on it)."""
    base = {f.name: getattr(student_facts(ctx), f.name) for f in fields(StudentFacts)}
    return WithdrawalFacts(
        **{**base, "today": china_today()},
        absent_since=_date(ctx.data.get("absent_since")),
        reminded_on=_date(ctx.data.get("reminded_on")),
    )


@handler("withdrawal.check")
def check_withdrawal(ctx: Context) -> dict:
    return WITHDRAWAL_RULES.first_failure(withdrawal_facts(ctx)).result()


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
