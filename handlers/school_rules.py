"""Facts about schools and classes shared by several procedures' rules."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import ACTIVE_STATUSES, Organization, Student

# 000 ⑦ 第八条: class size caps.
CLASS_CAPS = {"primary": 45, "junior": 50, "senior": 50, "vocational": 50}
# The last grade of each stage (grade counted from primary year 1).
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
