"""Facts about schools and classes shared by several procedures' rules."""

from __future__ import annotations

from types import SimpleNamespace

from webapp.models import ACTIVE_STATUSES, Instance, Organization, Student, db

from . import load_all
from .context import Context, NoSuchTable
from .rules import RULESETS, Rule

# 000 ⑦ 第八条: class size caps.
CLASS_CAPS = {"primary": 45, "junior": 50, "senior": 50, "vocational": 50}
# The last grade of each stage (grade counted from primary year 1): graduation's cohort, and
# the graduating year of a transfer version deployed before its table existed.
GRADUATING_GRADES = frozenset({6, 9, 12})


def offers_stage(school: Organization, stage: str) -> bool:
    return stage in school.stage_list


def students_in_class(school_id: int, grade: int, class_name: str) -> int:
    """Pupils seated in the class. The school's row is locked until the transaction ends
    (FOR UPDATE, where the database has it), so that two final steps seating pupils at one
    school count one after the other and never both take the last seat."""
    db.session.execute(
        db.select(Organization.id).where(Organization.id == school_id).with_for_update()
    )
    return (
        db.session.query(db.func.count(Student.id))
        .filter(
            Student.school_id == school_id,
            Student.grade == grade,
            Student.class_name == class_name,
            Student.status.in_(ACTIVE_STATUSES),
        )
        .scalar()
    )


def class_has_room(student: Student, school_id: int, grade: int, class_name: str) -> bool:
    """The class is under its stage's cap; a student already seated there is not counted twice."""
    if not class_name:
        return True
    seated = students_in_class(school_id, grade, class_name)
    here = (student.school_id, student.grade, student.class_name) == (school_id, grade, class_name)
    if here and student.status in ACTIVE_STATUSES:
        seated -= 1
    return seated < CLASS_CAPS[student.stage]


def _holds_active_status(f) -> bool:
    return f.student.status in ACTIVE_STATUSES


def _no_other_open_procedure(f) -> bool:
    """Another instance holds the student (an instance lets go once its record change is done)."""
    return not db.session.query(
        Instance.query.filter(
            Instance.open_student_id == f.student.id, Instance.id != f.instance_id
        ).exists()
    ).scalar()


def _enrolled(f) -> bool:
    return f.student.status == "enrolled"


# Shared by every per-student procedure; facts need `.student` and `.instance_id`.
ACTIVE_STATUS = Rule(
    "active_status",
    "该学生没有有效学籍（当前状态：{f.student.status_label}），不能办理。",
    _holds_active_status,
    source="平台规则：学籍业务只为有学籍（在籍或休学）的学生办理（003 篇4）",
)
ENROLLED_STATUS = Rule(
    "enrolled_status",
    "学生当前为{f.student.status_label}状态：只有在籍（未休学）的学生可以办理。",
    _enrolled,
    source="平台规则：休学中的学生先复学再办理（000 第十八条）",
)
# 000 第十八条; 第二部分 第十八条, 第二十条 说明2 (RULES.md additions): a suspended student
# studies nowhere else. Every procedure that seats the student at another school while the
# record stays suspended asks it; a transfer only moves the record (T9) and does not.
NOT_SUSPENDED = Rule(
    "suspended_studies_nowhere",
    "学生正在休学（休学期至 {f.student.suspended_until}）：休学者不得提前复学，"
    "也不得中途到其他学校上学（000 第十八条，第二部分 第十八条）。",
    lambda f: f.student.status != "suspended",
)
NOT_BORROWING = Rule(
    "already_borrowing",
    "该学生正在{f.student.borrow_host.name}借读，须先办理借读结束。",
    lambda f: f.student.borrow_host_id is None,
    source="000 第十五条 说明5（借读结束、返回原校后再办理）",
)
NO_OPEN_PROCEDURE = Rule(
    "no_open_procedure",
    "该学生已有其他正在办理的学籍业务，须办结后再申请。",
    _no_other_open_procedure,
    source="平台规则：同一学生同时只办一项学籍业务（RULES.md 业务通则）",
)


def graduating_grades(ctx: Context, stage: str) -> frozenset[int]:
    """The grades that count as the graduating year for this procedure: its one-row table
    `<procedure>_graduating_year` (stage → `grades`; the default: the last grade of each
    stage), which a region may override with its own."""
    try:
        row = ctx.decide_first(f"{ctx.instance.procedure}_graduating_year", {"stage": stage})
    except NoSuchTable:
        return GRADUATING_GRADES
    return frozenset(int(g) for g in row["grades"])


def _not_graduating_year(f) -> bool:
    return f.student.grade not in f.graduating_grades


# Transfer is refused in the graduating year; facts need `.graduating_grades` (from
# `graduating_grades`). Suspension has its own rule of the same name over its table
# `suspension_graduating_year` (handlers/suspension.py), whose rows a region overrides.
GRADUATING_YEAR = Rule(
    "graduating_year",
    "毕业年级学生原则上不办理转学或休学（⑦ 第十条，000 第十七条）。",
    _not_graduating_year,
)


# The rules that read nothing but the record's status: what decides, for the record page's
# 可发起的业务, which procedures a student's status allows (a suspended student: 复学, not
# 休学 again; a graduated or withdrawn record: nothing that needs an active status).
STATUS_RULES = frozenset(
    {"active_status", "enrolled_status", "suspended_status", "suspended_studies_nowhere"}
)


def status_allows(procedure: str, student: Student) -> bool:
    """Whether the procedure's own status rules let this student's record start it."""
    load_all()
    facts = SimpleNamespace(student=student)
    return all(
        rule.check(facts)
        for ruleset in RULESETS
        if ruleset.procedure == procedure
        for rule in ruleset.rules
        if rule.name in STATUS_RULES
    )
