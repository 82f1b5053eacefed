"""Suspension (休学) and resumption (复学): checks, final steps, and what the end date triggers.

RULES.md §2 with the default (Taizhou) thresholds: compulsory stages more than 210 missed
class hours, senior high more than one third of the year's hours, abroad and military
without threshold; one year; senior high at most two years in total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta

from webapp.extensions import db
from webapp.models import CHINA, Certificate, Instance, StatusHistory, Student, china_today

from . import Context, handler
from .records import change_record
from .rules import RuleSet
from .school_rules import (
    ACTIVE_STATUS,
    ENROLLED_STATUS,
    GRADUATING_YEAR,
    NO_OPEN_PROCEDURE,
    class_has_room,
)

COMPULSORY = ("primary", "junior")
COMPULSORY_MIN_HOURS = 210  # 000 第十六条: more than 210 class hours missed
NO_THRESHOLD = ("abroad", "military")
SUSPENSION_LENGTH = relativedelta(years=1)  # 000 第十八条
# ⑦ 第二十一条: senior high not back within a month of the end date is withdrawn.
WITHDRAWAL_GRACE = relativedelta(months=1)
# Total years a student may spend suspended in one stage (000 第二部分 第十八条; 002).
MAX_SUSPENSIONS = {"senior": 2, "vocational": 4}
STAGE_GRADES = {"primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13)}


@dataclass
class SuspensionFacts:
    instance_id: int
    student: Student
    reason: str
    absence_hours: int
    year_hours: int | None

    @property
    def stage(self) -> str:
        return self.student.stage

    @property
    def earlier_suspensions(self) -> int:
        """Suspensions already approved for this student in the current stage."""
        earlier = Instance.query.join(
            StatusHistory, StatusHistory.instance_id == Instance.id
        ).filter(
            Instance.procedure == "suspension",
            StatusHistory.student_id == self.student.id,
            Instance.id != self.instance_id,
        )
        return sum(1 for i in earlier if (i.data.get("check") or {}).get("stage") == self.stage)


def _suspension_facts(ctx: Context) -> SuspensionFacts:
    data = ctx.data
    return SuspensionFacts(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, data["student_id"]),
        reason=data["reason"],
        absence_hours=int(data["absence_hours"]),
        year_hours=data.get("year_hours"),
    )


SUSPENSION_RULES = RuleSet()


SUSPENSION_RULES.add(ENROLLED_STATUS)
SUSPENSION_RULES.add(NO_OPEN_PROCEDURE)
SUSPENSION_RULES.add(GRADUATING_YEAR)


@SUSPENSION_RULES.rule(
    "absence_threshold",
    "缺课课时未达到休学条件：义务教育阶段须超过 210 课时，高中阶段须超过本学年总课时的三分之一"
    "（已填缺课 {f.absence_hours} 课时）。",
)
def _absence_threshold(f: SuspensionFacts) -> bool:
    if f.reason in NO_THRESHOLD:
        return True
    if f.stage in COMPULSORY:
        return f.absence_hours > COMPULSORY_MIN_HOURS
    return bool(f.year_hours) and f.absence_hours * 3 > f.year_hours


@SUSPENSION_RULES.rule(
    "suspension_total",
    "该学生本学段休学已满 {f.earlier_suspensions} 年，累计休学期已达上限，不能再次休学。",
)
def _suspension_total(f: SuspensionFacts) -> bool:
    limit = MAX_SUSPENSIONS.get(f.stage)
    return limit is None or f.earlier_suspensions < limit


@handler("suspension.check")
def check_suspension(ctx: Context) -> dict:
    facts = _suspension_facts(ctx)
    return SUSPENSION_RULES.first_failure(facts).result(
        stage=facts.stage, senior=facts.stage in MAX_SUSPENSIONS
    )


def _china_midnight(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=CHINA).isoformat()


@handler("suspension.finalize")
def finalize_suspension(ctx: Context) -> dict:
    """Status 休学 until one year on, a 休学证明 with a unique number; the student is let go.

    Going abroad counts from the approval, not from the first missed day (RULES.md §2).
    The instance stays open to wait for the end date, but other procedures (resumption,
    a transfer while suspended) may start from here on.
    """
    today = china_today()
    start = today if ctx.data["reason"] == "abroad" else date.fromisoformat(ctx.data["start_date"])
    end = start + SUSPENSION_LENGTH
    student, row = change_record(ctx, "suspension", {"status": "suspended", "suspended_until": end})
    number = f"XX{today.year}{student.school.code}{ctx.instance.id:06d}"
    if row is not None:
        db.session.add(
            Certificate(
                student_id=student.id, kind="休学证明", number=number, instance_id=ctx.instance.id
            )
        )
    ctx.instance.open_student_id = None
    db.session.flush()
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "end_at": _china_midnight(end),
        "withdraw_at": _china_midnight(end + WITHDRAWAL_GRACE),
        "certificate": number,
    }


def _resumed(ctx: Context) -> bool:
    """Back in school, or a resumption started since this suspension was approved."""
    student = db.session.get(Student, ctx.data["student_id"])
    if student.status != "suspended":
        return True
    return db.session.query(
        Instance.query.filter(
            Instance.procedure == "resumption",
            Instance.student_id == student.id,
            Instance.status.in_(("running", "completed")),
            Instance.created_at >= ctx.instance.created_at,
        ).exists()
    ).scalar()


@handler("suspension.ended")
def suspension_ended(ctx: Context) -> dict:
    """At the end date: has the student come back, and which school is to be reminded."""
    student = db.session.get(Student, ctx.data["student_id"])
    return {"resumed": _resumed(ctx), "school_id": student.school_id}


@handler("suspension.withdraw")
def withdraw_after_suspension(ctx: Context) -> dict:
    """Senior high, no resumption a month after the end date: start a withdrawal (⑦ 第二十一条)."""
    from workflows import engine  # the engine imports handlers; import it when called

    if _resumed(ctx):
        return {"started": None}
    student = db.session.get(Student, ctx.data["student_id"])
    if (
        student.status != "suspended"
        or Instance.query.filter_by(open_student_id=student.id).first()
    ):
        return {"started": None, "message": "该学生已有正在办理的学籍业务，未自动发起退学。"}
    end = ctx.data["suspension"]["end"]
    withdrawal = engine.start_automatic(
        "withdrawal",
        student,
        {
            "reason": "suspension_not_resumed",
            "note": f"休学于 {end} 期满，一个月内未申请复学（⑦ 第二十一条）。",
            "evidence": [],
            "suspension_instance_id": ctx.instance.id,
        },
        "休学期满一个月未申请复学",
    )
    return {"started": withdrawal.id}


# -- resumption ----------------------------------------------------------------------------


@dataclass
class ResumptionFacts:
    instance_id: int
    student: Student
    resume_date: date
    to_grade: int
    to_class_name: str

    @property
    def stage(self) -> str:
        return self.student.stage


def _resumption_facts(ctx: Context) -> ResumptionFacts:
    data = ctx.data
    student = db.session.get(Student, data["student_id"])
    return ResumptionFacts(
        instance_id=ctx.instance.id,
        student=student,
        resume_date=date.fromisoformat(data["resume_date"]),
        to_grade=int(data["to_grade"]),
        to_class_name=data.get("to_class_name") or student.class_name or "",
    )


RESUMPTION_RULES = RuleSet()
RESUMPTION_RULES.add(ACTIVE_STATUS)


@RESUMPTION_RULES.rule("suspended_status", "该学生当前不是休学状态，无需复学。")
def _suspended(f: ResumptionFacts) -> bool:
    return f.student.status == "suspended"


RESUMPTION_RULES.add(NO_OPEN_PROCEDURE)


@RESUMPTION_RULES.rule(
    "no_early_return",
    "休学期至 {f.student.suspended_until} 届满，不得提前复学（申请复学日期 {f.resume_date}）。",
)
def _no_early_return(f: ResumptionFacts) -> bool:
    return f.student.suspended_until is None or f.resume_date >= f.student.suspended_until


@RESUMPTION_RULES.rule(
    "resumption_grade",
    "复学年级不符合规定：义务教育阶段回原年级，高中可回原年级或升入下一年级"
    "（原 {f.student.grade} 年级，申请 {f.to_grade} 年级）。",
)
def _resumption_grade(f: ResumptionFacts) -> bool:
    if f.stage in COMPULSORY:
        return f.to_grade == f.student.grade
    allowed = {f.student.grade, f.student.grade + 1} & set(STAGE_GRADES["senior"])
    return f.to_grade in allowed


@RESUMPTION_RULES.rule("class_size_cap", "复学班级 {f.to_class_name} 已达班额上限，请另选班级。")
def _class_size_cap(f: ResumptionFacts) -> bool:
    return class_has_room(f.student, f.student.school_id, f.to_grade, f.to_class_name)


@handler("resumption.check")
def check_resumption(ctx: Context) -> dict:
    return RESUMPTION_RULES.first_failure(_resumption_facts(ctx)).result()


@handler("resumption.finalize")
def finalize_resumption(ctx: Context) -> dict:
    """Status 在籍 at the student's current school (it may have changed while suspended)."""
    facts = _resumption_facts(ctx)
    changes = {
        "status": "enrolled",
        "grade": facts.to_grade,
        "class_name": facts.to_class_name,
        "suspended_until": None,
    }
    student, _ = change_record(ctx, "resumption", changes)
    return {"status": student.status, "grade": student.grade}
