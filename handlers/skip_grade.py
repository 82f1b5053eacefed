"""Skip a grade (跳级, 000 第二十二条): the check and the final step (RULES.md §5).

Its checks run twice: when the school submits (before anyone is asked) and again right
before the record changes, since a class may fill up while the reviewers decide.
"""

from __future__ import annotations

from . import Context, handler
from .grade_change import GradeChangeFacts, add_student_rules, class_size_cap, facts_of, finalize
from .rules import RuleSet

# A skip's facts are the shared ones; the switch is the table skip_grade_policy.
SkipGradeFacts = GradeChangeFacts


def grade_band(grade: int) -> str:
    """Primary 1–6, junior 7–9, upper secondary 10–12 (senior or vocational)."""
    if grade <= 6:
        return "primary"
    if grade <= 9:
        return "junior"
    return "upper"


SKIP_GRADE_RULES = RuleSet()


@SKIP_GRADE_RULES.rule(
    "skip_grade_allowed",
    "本地区学籍管理规定不允许跳级（如山东省：不跳级、不留级），不能办理。",
    source="000 第二十二条；000 ⑦ 第二十五条（山东不跳级）",
)
def _skip_grade_allowed(f: SkipGradeFacts) -> bool:
    return f.allowed


add_student_rules(SKIP_GRADE_RULES)


@SKIP_GRADE_RULES.rule(
    "one_grade_up",
    "跳级只能跳一个年级：学生现为 {f.student.grade} 年级，申请跳入 {f.to_grade} 年级。",
    source="000 第二十二条",
)
def _one_grade_up(f: SkipGradeFacts) -> bool:
    return f.to_grade == f.student.grade + 1


@SKIP_GRADE_RULES.rule(
    "same_stage",
    "跳级不得跨学段：{f.student.grade} 年级是本学段最高年级，升入下一学段须经招生录取。",
    source="000 第二十二条；000 第二部分 第一条（升入下一学段经招生录取）",
)
def _same_stage(f: SkipGradeFacts) -> bool:
    return grade_band(f.to_grade) == grade_band(f.student.grade)


SKIP_GRADE_RULES.add(class_size_cap("跳入的"))


@handler("skip_grade.check")
def check_skip_grade(ctx: Context) -> dict:
    return SKIP_GRADE_RULES.first_failure(facts_of(ctx, "allow_skip_grade")).result()


@handler("skip_grade.finalize")
def finalize_skip_grade(ctx: Context) -> dict:
    """Grade one up, into the named class."""
    return finalize(ctx, "skip_grade", facts_of(ctx, "allow_skip_grade"))
