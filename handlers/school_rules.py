"""Facts about schools and classes shared by several procedures' rules."""

from __future__ import annotations

from webapp.models import ACTIVE_STATUSES, Instance, Organization, Student, db

from .context import Context, NoSuchTable
from .rules import Rule

# 000 ⑦ 第八条: class size caps.
CLASS_CAPS = {"primary": 45, "junior": 50, "senior": 50, "vocational": 50}
# The last grade of each stage (grade counted from primary year 1): graduation's cohort, and
# the graduating year of a transfer version deployed before its table existed.
GRADUATING_GRADES = frozenset({6, 9, 12})


def offers_stage(school: Organization, stage: str) -> bool:
    return stage in school.stage_list


def students_in_class(school_id: int, grade: int, class_name: str) -> int:
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
)
ENROLLED_STATUS = Rule(
    "enrolled_status",
    "学生当前为{f.student.status_label}状态：只有在籍（未休学）的学生可以办理。",
    _enrolled,
)
NOT_BORROWING = Rule(
    "already_borrowing",
    "该学生正在{f.student.borrow_host.name}借读，须先办理借读结束。",
    lambda f: f.student.borrow_host_id is None,
)
NO_OPEN_PROCEDURE = Rule(
    "no_open_procedure",
    "该学生已有其他正在办理的学籍业务，须办结后再申请。",
    _no_other_open_procedure,
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
