"""Withdrawal (退学): the school's application (RULES.md §5).

A senior student absent without leave (擅自离校) is withdrawn by the school after written
reminders, and the county files it (000 ⑦ 第二十二条): the application then says since when
the student has been away and when the school last wrote to bring the student back; the copies
of the letters are its evidence. The rules that judge them are the handler's.
"""

from marshmallow import ValidationError, fields, post_load, validates_schema

from . import Field
from .leaving import leaving_form, leaving_schema
from .validators import iso_dates

ABSENT_WITHOUT_LEAVE = "absent_without_leave"
WITHDRAWAL_REASONS = (
    ("lost_ability", "丧失学习能力"),
    ("nine_years_completed", "年满16周岁且已完成九年义务教育"),
    ("personal", "本人（监护人）申请"),
    ("suspension_not_resumed", "休学期满未申请复学"),
    (ABSENT_WITHOUT_LEAVE, "擅自离校一个月以上（高中，经书面督促未返校）"),
)


def _optional_date(label: str) -> fields.Date:
    return fields.Date(
        load_default=None,
        allow_none=True,
        error_messages={"invalid": f"{label}应为有效日期，格式 YYYY-MM-DD。"},
    )


class WithdrawalSchema(leaving_schema("WithdrawalReasonSchema", WITHDRAWAL_REASONS)):
    absent_since = _optional_date("擅自离校日期")
    reminded_on = _optional_date("书面督促返校日期")

    @validates_schema
    def absence_date(self, data, **kwargs):
        if data.get("reason") == ABSENT_WITHOUT_LEAVE and data.get("absent_since") is None:
            raise ValidationError(
                "退学原因为“擅自离校”时必须填写擅自离校日期。", field_name="absent_since"
            )

    @post_load
    def dates_as_text(self, data, **kwargs):
        return iso_dates(data, "absent_since", "reminded_on")


WITHDRAWAL_APPLY = leaving_form(
    "withdrawal_apply",
    "退学申请",
    "退学原因",
    WithdrawalSchema,
    WITHDRAWAL_REASONS,
    extra=(
        Field("absent_since", "擅自离校日期", "date", help="退学原因为“擅自离校”时填写。"),
        Field(
            "reminded_on",
            "书面督促返校日期",
            "date",
            help="学校以信函等书面方式督促学生返校的日期（最近一次）；督促材料的副本作为证明"
            "材料上传存档（000 ⑦ 第二十二条）。",
        ),
    ),
)
