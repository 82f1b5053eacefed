"""Borrow-study (借读): the rule checks and the final step.

RULES.md §3; 000 第十三-十五条 (compulsory) and 第二部分 第十一-十五条 (high school).
The status stays at the home school throughout; only the borrowing columns change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webapp.models import Instance, Organization, Student, db

from . import Context, handler
from .records import change_record
from .rules import RuleSet
from .school_rules import (
    ACTIVE_STATUS,
    NO_OPEN_PROCEDURE,
    NOT_BORROWING,
    NOT_SUSPENDED,
    offers_stage,
)

# 000 说明2: borrowing students may not exceed 5% of the host school's enrolled students.
HOST_QUOTA_PERCENT = 5
# Grade 1, 7 and 10 start a stage: 000 第十四条, 第二部分 第十二条.
FIRST_YEAR_GRADES = frozenset({1, 7, 10})
# 000 第二部分 第十一条: who may borrow at high-school level.
SENIOR_CATEGORIES = frozenset(
    {
        "parents_abroad",
        "parents_field_work",
        "border_support",
        "military",
        "martyr",
        "overseas_chinese",
        "hk_macao_taiwan",
        "foreign_expert",
    }
)
HIGH_SCHOOL = ("senior", "vocational")


def iso_date(value) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass
class BorrowFacts:
    instance_id: int
    student: Student
    home: Organization
    host: Organization
    grade: int
    category: str

    @property
    def stage(self) -> str:
        return self.student.stage

    @property
    def same_county(self) -> bool:
        county = self.home.ancestor("county")
        return county is not None and county == self.host.ancestor("county")

    @property
    def host_enrolled(self) -> int:
        return (
            db.session.query(db.func.count(Student.id))
            .filter(Student.school_id == self.host.id, Student.status == "enrolled")
            .scalar()
        )

    @property
    def host_quota(self) -> int:
        return self.host_enrolled * HOST_QUOTA_PERCENT // 100

    @property
    def host_borrowers(self) -> int:
        """Students borrowing at the host now, and those whose borrow-study is under way."""
        borrowing = (
            db.session.query(db.func.count(Student.id))
            .filter(Student.borrow_host_id == self.host.id, Student.id != self.student.id)
            .scalar()
        )
        pending = (
            db.session.query(db.func.count(Instance.id))
            .filter(
                Instance.procedure == "borrow",
                Instance.status == "running",
                Instance.partner_school_id == self.host.id,
                Instance.id != self.instance_id,
            )
            .scalar()
        )
        return borrowing + pending


BORROW_RULES = RuleSet()
BORROW_RULES.add(ACTIVE_STATUS)
BORROW_RULES.add(NO_OPEN_PROCEDURE)
BORROW_RULES.add(NOT_SUSPENDED)


@BORROW_RULES.rule(
    "same_school",
    "借读学校与学生学籍所在学校相同，无需办理借读。",
    source="平台规则：借读是到学籍所在学校以外的学校就读（000 第十三条）",
)
def _not_same_school(f: BorrowFacts) -> bool:
    return f.home.id != f.host.id


BORROW_RULES.add(NOT_BORROWING)


@BORROW_RULES.rule(
    "grade_unchanged",
    "借读过程不得变更就读年级：学生现为 {f.student.grade} 年级，申请按 {f.grade} 年级借读。",
    source="000 第十四条，第二部分 第十二条",
)
def _grade_unchanged(f: BorrowFacts) -> bool:
    return f.grade == f.student.grade


@BORROW_RULES.rule(
    "stage_offered",
    "借读学校不设该学生所在学段，不能接收其借读。",
    source="平台规则：借读学校须开设该学段（000 第十三条 双方学校同意）",
)
def _stage_offered(f: BorrowFacts) -> bool:
    return offers_stage(f.host, f.stage)


@BORROW_RULES.rule(
    "first_year_status",
    "起始年级（一年级、七年级、高一）学生须先在录取学校取得学籍后方可外出借读，该学生尚无学籍号。",
    source="000 第十四条，第二部分 第十二条",
)
def _first_year_status(f: BorrowFacts) -> bool:
    return f.student.grade not in FIRST_YEAR_GRADES or bool(f.student.status_number)


@BORROW_RULES.rule(
    "same_area", "同一县（区）内的小学、初中学生原则上不办理借读。", source="000 第十五条 说明1"
)
def _same_area(f: BorrowFacts) -> bool:
    return f.stage not in ("primary", "junior") or not f.same_county


@BORROW_RULES.rule(
    "senior_category",
    "高中阶段借读仅限父母因公出国一年以上、从事野外或流动性工作、支援边疆建设，"
    "以及军人、烈士、华侨（归侨）、港澳台同胞、在华外籍专家的子女；所选借读类别不符合。",
    source="000 第二部分 第十一条",
)
def _senior_category(f: BorrowFacts) -> bool:
    return f.stage not in HIGH_SCHOOL or f.category in SENIOR_CATEGORIES


@BORROW_RULES.rule(
    "host_quota",
    "借读学校的借读生不得多于在籍生数的 5%：该校在籍 {f.host_enrolled} 人，"
    "最多接收 {f.host_quota} 名借读生，现已有（含办理中）{f.host_borrowers} 名。",
    source="000 第十五条 说明2",
)
def _host_quota(f: BorrowFacts) -> bool:
    return (f.host_borrowers + 1) * 100 <= f.host_enrolled * HOST_QUOTA_PERCENT


def _borrow_facts(ctx: Context) -> BorrowFacts:
    data = ctx.data
    student = db.session.get(Student, data["student_id"])
    grade = data.get("grade")
    return BorrowFacts(
        instance_id=ctx.instance.id,
        student=student,
        home=db.session.get(Organization, data["from_school_id"]),
        host=db.session.get(Organization, data["to_school_id"]),
        grade=student.grade if grade in (None, "") else int(grade),
        category=data["category"],
    )


@handler("borrow.check")
def check_borrow(ctx: Context) -> dict:
    """Run every borrow-study rule; report the first that fails and the routing facts."""
    facts = _borrow_facts(ctx)
    return BORROW_RULES.first_failure(facts).result(
        needs_county=facts.stage in HIGH_SCHOOL,
        same_county=facts.same_county,
    )


@handler("borrow.finalize")
def finalize_borrow(ctx: Context) -> dict:
    """The student appears at the host as a borrowing student; the status stays at home."""
    data = ctx.data
    host_id = data["to_school_id"]
    changes = {
        "borrow_host_id": host_id,
        "borrow_start": iso_date(data["start_date"]),
        "borrow_end": iso_date(data["end_date"]),
    }
    student, row = change_record(ctx, "borrow", changes, (host_id,))
    return {"borrowing": student.borrow_host_id == host_id, "history_id": row.id if row else None}
