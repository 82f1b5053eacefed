"""Withdrawal (退学): the school's application (RULES.md §5)."""

from .leaving import leaving_form, leaving_schema

WITHDRAWAL_REASONS = (
    ("lost_ability", "丧失学习能力"),
    ("nine_years_completed", "年满16周岁且已完成九年义务教育"),
    ("personal", "本人（监护人）申请"),
    ("suspension_not_resumed", "休学期满未申请复学"),
)

WithdrawalSchema = leaving_schema("WithdrawalSchema", WITHDRAWAL_REASONS)
WITHDRAWAL_APPLY = leaving_form(
    "withdrawal_apply", "退学申请", "退学原因", WithdrawalSchema, WITHDRAWAL_REASONS
)
