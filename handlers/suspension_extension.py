"""续办休学 (extending a suspension): at the end date the school may ask for it (000 第二十条
说明4, ⑦ 第十九条, 003 篇10): checked, decided by the county, and on approval the end date
moves on by the `suspension_length` table's length."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from webapp.models import Student, db

from . import Context, handler
from .months import suspended_months
from .records import amend_record
from .rules import RuleSet
from .school_rules import NO_OPEN_PROCEDURE
from .suspension import SUSPENSION_TOTAL, SuspensionFacts, asked_of, period_end, suspension_facts


def _extension_facts(ctx: Context) -> SuspensionFacts:
    facts = suspension_facts(ctx)
    facts.own_months = suspended_months(ctx.data)
    return facts


EXTENSION_RULES = RuleSet()


@EXTENSION_RULES.rule(
    "suspended_status",
    "该学生当前为{f.student.status_label}状态，不是休学，无需续办休学。",
    source="000 第十八条（续办休学）",
)
def _still_suspended(f: SuspensionFacts) -> bool:
    return f.student.status == "suspended"


EXTENSION_RULES.add(NO_OPEN_PROCEDURE)
EXTENSION_RULES.add(SUSPENSION_TOTAL)


@handler("suspension.check_extension")
def check_extension(ctx: Context) -> dict:
    """The rules before the county is asked. The instance holds the student again while the
    county decides, so no resumption starts meanwhile."""
    facts = _extension_facts(ctx)
    verdict = EXTENSION_RULES.first_failure(facts)
    if verdict.ok:
        ctx.hold_student(facts.student.id)
    return verdict.result()


def _tell_school(ctx: Context, student: Student, kind: str, message: str) -> None:
    """The county decided the extension: tell the student's school, and let the student go
    (the instance held it while the county decided)."""
    ctx.tell_school(student.school_id, kind, f"{message}（业务编号 {ctx.instance.id}）")
    ctx.release_student()


@handler("suspension.extend")
def extend_suspension(ctx: Context) -> dict:
    """The county approved: the end date moves on by the table's length (the student stays
    休学; a history row per extension keeps before and after) and the process waits for the
    new end date."""
    period = ctx.data["suspension"]
    student = db.session.get(Student, ctx.data["student_id"])
    length = ctx.decide_first("suspension_length", asked_of(student, ctx.data))
    end = date.fromisoformat(period["end"]) + relativedelta(months=length["length_months"])
    extensions = period.get("extensions", 0) + 1
    amend_record(
        ctx,
        "suspension",
        {"suspended_until": end},
        extensions,
        noted={"extension": extensions},
    )
    message = f"续办休学已批准：休学期满日期由 {period['end']} 顺延至 {end}。"
    _tell_school(ctx, student, "completed", f"学生 {student.name} {message}")
    return {**period, **period_end(end, length), "extensions": extensions, "message": message}


@handler("suspension.extension_refused")
def extension_refused(ctx: Context) -> dict:
    """Tell the school why no extension: the rule that refused it, or the county's reason.
    The student is let go and the reminder comes back; for senior high the month after the
    end date still runs (a refusal before it ends leads to the automatic withdrawal)."""
    check = ctx.data["extension"]
    if check["ok"]:
        rule = "reviewer_rejected"
        why = f"县级教育行政部门不同意，理由：{ctx.data.get('comment', '').rstrip('。')}"
    else:
        rule = check["rule"]
        why = f"{check['message'].rstrip('。')}（规则：{rule}）"
    student = db.session.get(Student, ctx.data["student_id"])
    _tell_school(
        ctx, student, "rejected", f"学生 {student.name} 续办休学未获批准：{why}。请尽快办理复学。"
    )
    return {"rule": rule, "message": why}
