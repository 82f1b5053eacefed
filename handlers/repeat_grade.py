"""Repeat a grade (留级): checks and the final record change.

RULES.md §5 and its additions; 003 篇10 四 ("义务教育阶段，严格控制学生留级"). By default a
student repeats one grade, inside one stage and one school, on the guardian's written
request, after the school (another user than the one who entered it) and the county
approve; the status number does not change (003: 留级不改变学籍号). A region that forbids
repeating says so in its one-row table `repeat_grade_policy` (Shandong, 000 ⑦ 第二十五条;
Fujian vocational, credit system, 002 第二十四条), and every application is refused by the
rule `repeat_grade_allowed` before anyone is asked.

The checks run twice: when the school submits, and again right before the record changes,
since the class may fill up while the reviewers decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import Context, handler
from .grade_change import GradeChangeFacts, add_student_rules, class_size_cap, facts_of, finalize
from .rules import RuleSet

# The first grade of each stage (primary 1–6, junior 7–9, senior and vocational 10–12): the
# grade below it belongs to the previous stage, which a student does not repeat into.
STAGE_FIRST_GRADES = frozenset({1, 7, 10})
# Without the table's answer (a model that does not ask it) the default rule set holds.
DEFAULT_BASIS = "义务教育阶段严格控制学生留级（003 篇10 四）"


@dataclass
class RepeatGradeFacts(GradeChangeFacts):
    basis: str  # the document the region's switch rests on, for the refusal


REPEAT_GRADE_RULES = RuleSet()


@REPEAT_GRADE_RULES.rule(
    "repeat_grade_allowed",
    "本地区不办理留级：{f.basis}。",
    source="003 篇10 四；000 ⑦ 第二十五条，002 第二十四条（变体）",
)
def _repeat_grade_allowed(f: RepeatGradeFacts) -> bool:
    return f.allowed


add_student_rules(REPEAT_GRADE_RULES)


@REPEAT_GRADE_RULES.rule(
    "one_grade_down",
    "留级只能降一个年级：学生现为 {f.student.grade} 年级，申请编入 {f.to_grade} 年级。",
    source="003 篇10 四",
)
def _one_grade_down(f: RepeatGradeFacts) -> bool:
    return f.to_grade == f.student.grade - 1


@REPEAT_GRADE_RULES.rule(
    "same_stage",
    "留级不得跨学段：{f.student.grade} 年级是本学段的第一个年级（小学 1–6、初中 7–9、"
    "高中和中职 10–12 年级），不能降入上一学段。",
    source="003 篇10 四（同一学段、同一学校内）",
)
def _same_stage(f: RepeatGradeFacts) -> bool:
    return f.student.grade not in STAGE_FIRST_GRADES


REPEAT_GRADE_RULES.add(class_size_cap("留级编入的"))


def _facts(ctx: Context) -> RepeatGradeFacts:
    basis = str(ctx.data.get("repeat_grade_basis") or DEFAULT_BASIS).rstrip("。")
    return facts_of(ctx, "allow_repeat_grade", RepeatGradeFacts, basis=basis)


@handler("repeat_grade.check")
def check_repeat_grade(ctx: Context) -> dict:
    return REPEAT_GRADE_RULES.first_failure(_facts(ctx)).result()


@handler("repeat_grade.finalize")
def finalize_repeat_grade(ctx: Context) -> dict:
    """One grade down, into the named class, in the same school; the status number stays."""
    return finalize(ctx, "repeat_grade", _facts(ctx))
