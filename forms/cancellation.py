"""Cancellation (注销): the school's application (RULES.md §5)."""

from .leaving import leaving_form, leaving_schema

CANCELLATION_REASONS = (
    ("death", "死亡"),
    ("lost_ability", "丧失学习能力"),
    ("abroad_not_returning", "出国（境）不再回国就读"),
)

CancellationSchema = leaving_schema("CancellationSchema", CANCELLATION_REASONS)
CANCELLATION_APPLY = leaving_form(
    "cancellation_apply", "注销学籍申请", "注销原因", CancellationSchema, CANCELLATION_REASONS
)
