"""Skip a grade (跳级): the school's application (RULES.md §5).

The shape of a value is checked here (a 422 naming the field); whether the change is
allowed (one grade up, within the stage, the class has room) is the automatic check's job,
so that a refusal carries the rule's name.
"""

from . import FormSpec, register
from .grade_change import grade_change_fields, grade_change_schema

SKIP_GRADE_APPLY = register(
    FormSpec(
        key="skip_grade_apply",
        title="跳级申请",
        schema=grade_change_schema("跳入年级", "请填写跳级后编入的班级。", max_grade=12),
        fields=grade_change_fields(
            "跳入年级",
            "只能比现年级高一个年级，且不跨学段（小学一年级为 1，初一为 7，高一为 10）。",
            "跳级申请",
        ),
    )
)
