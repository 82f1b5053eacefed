"""Resumption (复学): checks and the final step (RULES.md §2).

A drop-out (流失: here a withdrawn record) who comes back resumes on the record already
kept, never on a new one (003 篇2 第十四条, 篇7 第十二条 "无需再为其建立新的电子档案"), at the
school that kept it; a vocational student who withdrew may not (002 第十六条).

The grades a student may come back to are the instance's `resumption_grade` table (stage,
months off, equal progress → the grades allowed); whether a student may come back before
the end date is its one-row `resumption_early_return` table (the default: not before).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from webapp.models import ACTIVE_STATUSES, Instance, StatusHistory, Student, db
from webapp.models.vocabulary import STAGE_GRADES

from . import Context, handler, procedure_tables
from .months import months_begun
from .records import change_record
from .rules import RuleSet
from .school_rules import NO_OPEN_PROCEDURE, class_has_room

TABLES = procedure_tables("resumption", "resumption_grade")
# 流失 (drop-out) in the documents: on this platform a withdrawn (退学) record.
RETURNING_STATUS = "withdrawn"


def resumed(ctx: Context) -> bool:
    """Back in school, or a resumption started since the suspension of `ctx` was approved."""
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


@dataclass
class ResumptionFacts:
    instance_id: int
    student: Student
    resume_date: date
    to_grade: int
    to_class_name: str
    equal_progress: bool  # the student proves equal progress (成绩证明), e.g. Fujian 002 第十四条
    ctx: Context  # asks the instance's tables
    early_return: bool = False  # the `resumption_early_return` row: back before the end date

    @property
    def stage(self) -> str:
        return self.student.stage

    @property
    def suspended_since(self) -> date | None:
        """The start of the current suspension, from its approval, or for a returning
        drop-out the day the record was withdrawn (None: not on record)."""
        procedure = "withdrawal" if self.student.status == RETURNING_STATUS else "suspension"
        row = (
            StatusHistory.query.filter_by(student_id=self.student.id, procedure=procedure)
            .order_by(StatusHistory.id.desc())
            .first()
        )
        if row is None or procedure == "withdrawal":
            return row.at.date() if row else None
        instance = db.session.get(Instance, row.instance_id) if row.instance_id else None
        start = ((instance.data if instance else {}).get("suspension") or {}).get("start")
        return date.fromisoformat(start) if start else row.at.date()

    @property
    def months_off(self) -> int:
        since = self.suspended_since
        return months_begun(since, self.resume_date) if since else 0

    @functools.cached_property
    def grade_rule(self) -> dict:
        return self.ctx.decide_first(
            "resumption_grade",
            {
                "stage": self.stage,
                "months_off": self.months_off,
                "equal_progress": self.equal_progress,
            },
        )

    @property
    def allowed_grades(self) -> list[int]:
        """The table's offsets from the original grade, kept inside the student's stage."""
        stage = STAGE_GRADES[self.stage]
        grades = {
            min(max(self.student.grade + int(o), stage[0]), stage[-1])
            for o in self.grade_rule["offsets"]
        }
        return sorted(grades)

    @property
    def grade_message(self) -> str:
        allowed = "、".join(str(g) for g in self.allowed_grades)
        return (
            f"复学年级不符合规定：{self.grade_rule['label']}（原 {self.student.grade} 年级，"
            f"可复学 {allowed} 年级，申请 {self.to_grade} 年级）。"
        )


def _resumption_facts(ctx: Context) -> ResumptionFacts:
    data = ctx.data
    student = db.session.get(Student, data["student_id"])
    return ResumptionFacts(
        instance_id=ctx.instance.id,
        student=student,
        resume_date=date.fromisoformat(data["resume_date"]),
        to_grade=int(data["to_grade"]),
        to_class_name=data.get("to_class_name") or student.class_name or "",
        equal_progress=bool(data.get("equal_progress")),
        ctx=ctx,
        early_return=bool(
            ctx.decide_first("resumption_early_return", {"stage": student.stage})["allowed"]
        ),
    )


RESUMPTION_RULES = RuleSet()


@RESUMPTION_RULES.rule(
    "suspended_status",
    "该学生当前为{f.student.status_label}状态：只有休学的学生，或退学（流失）后重返学校的学生"
    "（003 篇2 第十四条），可以办理复学。",
)
def _suspended(f: ResumptionFacts) -> bool:
    return f.student.status in ("suspended", RETURNING_STATUS)


@RESUMPTION_RULES.rule(
    "vocational_withdrawn_no_return",
    "中等职业学校退学的学生不得申请复学（002 第十六条）。",
)
def _vocational_withdrawn(f: ResumptionFacts) -> bool:
    return f.student.status != RETURNING_STATUS or f.stage != "vocational"


@RESUMPTION_RULES.rule(
    "returning_one_status",
    "该身份证号已持有其他学籍（一人只能有一个学籍），原退学档案不能再恢复；"
    "如有疑问请联系主管教育行政部门核实。",
    source="000 第八条.8（查重：一人只有一个学籍）",
)
def _returning_one_status(f: ResumptionFacts) -> bool:
    if f.student.status != RETURNING_STATUS:
        return True
    return not db.session.query(
        Student.query.filter(
            Student.id_number == f.student.id_number,
            Student.id != f.student.id,
            Student.status.in_(ACTIVE_STATUSES),
        ).exists()
    ).scalar()


RESUMPTION_RULES.add(NO_OPEN_PROCEDURE)


@RESUMPTION_RULES.rule(
    "no_early_return",
    "休学期至 {f.student.suspended_until} 届满，不得提前复学（申请复学日期 {f.resume_date}）。",
    source="000 第十八条，第二部分 第十八条",
)
def _no_early_return(f: ResumptionFacts) -> bool:
    """Not before the end date, unless the region's `resumption_early_return` table allows it."""
    until = f.student.suspended_until
    return f.early_return or until is None or f.resume_date >= until


@RESUMPTION_RULES.rule(
    "resumption_grade",
    "{f.grade_message}",
    source="000 第十九条、第二十条 说明3；第二部分 第十九条；002 第十四条；003 篇10",
)
def _resumption_grade(f: ResumptionFacts) -> bool:
    return f.to_grade in f.allowed_grades


@RESUMPTION_RULES.rule(
    "class_size_cap", "复学班级 {f.to_class_name} 已达班额上限，请另选班级。", source="000 ⑦ 第八条"
)
def _class_size_cap(f: ResumptionFacts) -> bool:
    return class_has_room(f.student, f.student.school_id, f.to_grade, f.to_class_name)


@handler("resumption.check")
def check_resumption(ctx: Context) -> dict:
    return RESUMPTION_RULES.first_failure(_resumption_facts(ctx)).result()


@handler("resumption.finalize")
def finalize_resumption(ctx: Context) -> dict:
    """Status 在籍 at the student's current school (it may have changed while suspended),
    on the same record for a returning drop-out: its number and history stay."""
    facts = _resumption_facts(ctx)
    changes = {
        "status": "enrolled",
        "grade": facts.to_grade,
        "class_name": facts.to_class_name,
        "suspended_until": None,
    }
    student, _ = change_record(ctx, "resumption", changes)
    return {"status": student.status, "grade": student.grade}
