"""Borrow-study (借读) forms: the host school's application and its correction.

RULES.md §3; 000 第十三-十五条, 第二部分 第十一-十五条. Dates travel as ISO text
(`2026-09-01`) in the instance data, so the engine state stays plain JSON.
"""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from . import GRADE_CHOICES, Field, FormSpec, register
from .evidence import OPTIONAL_EVIDENCE_HELP, optional_evidence
from .validators import DATE_ERRORS, check_id_number, iso_dates

# 000 第二部分 第十一条 (the senior-high eligibility list), plus migrant workers' children
# (⑦ 第十四条) and "other" for the compulsory stages.
CATEGORIES = (
    ("parents_abroad", "父母因公出国（境）一年以上"),
    ("parents_field_work", "父母从事野外或流动性工作"),
    ("border_support", "父母支援边疆建设"),
    ("military", "现役军人（含武警、边防指战员）子女"),
    ("martyr", "烈士子女"),
    ("overseas_chinese", "华侨、归侨子女"),
    ("hk_macao_taiwan", "港澳同胞、台湾同胞子女"),
    ("foreign_expert", "在华工作的外籍专家子女"),
    ("migrant_worker", "进城务工人员随迁子女"),
    ("other", "其他个人或家庭原因"),
)


class BorrowCorrectSchema(Schema):
    grade = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        validate=validate.Range(1, 12, error="年级必须在 1 到 12 之间。"),
        error_messages={"invalid": "年级必须是整数。"},
    )
    category = fields.String(
        required=True,
        validate=validate.OneOf([c for c, _ in CATEGORIES], error="借读类别不在可选范围内。"),
        error_messages={"required": "请选择借读类别。"},
    )
    start_date = fields.Date(
        required=True, error_messages={"required": "请填写借读开始日期。", **DATE_ERRORS}
    )
    end_date = fields.Date(
        required=True, error_messages={"required": "请填写借读结束日期。", **DATE_ERRORS}
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = optional_evidence()

    @validates_schema
    def end_after_start(self, data, **kwargs):
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end <= start:
            raise ValidationError("借读结束日期必须晚于开始日期。", field_name="end_date")

    @post_load
    def dates_as_text(self, data, **kwargs):
        return iso_dates(data, "start_date", "end_date")


class BorrowApplySchema(BorrowCorrectSchema):
    id_number = fields.String(required=True, error_messages={"required": "请填写身份证号。"})
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        error_messages={"required": "请填写学生姓名。"},
    )
    host_school_code = fields.String(
        required=True, error_messages={"required": "请填写借读学校代码。"}
    )

    @pre_load
    def receiving_school_alias(self, data, **kwargs):
        """DESIGN.md names the taking school `to_school_code` in every two-sided start."""
        if isinstance(data, dict) and "to_school_code" in data and "host_school_code" not in data:
            data = dict(data)
            data["host_school_code"] = data.pop("to_school_code")
        return data

    @validates("id_number")
    def valid_id(self, value, **kwargs):
        check_id_number(value)

    @post_load
    def compact(self, data, **kwargs):
        data["id_number"] = data["id_number"].strip().upper()
        data["name"] = data["name"].strip()
        data["host_school_code"] = data["host_school_code"].strip()
        return data


_CORRECT_FIELDS = (
    Field(
        "grade",
        "借读年级",
        "select",
        GRADE_CHOICES,
        help="借读不改变就读年级；不填即按学籍档案中的年级（1–12，高一为 10）。",
    ),
    Field(
        "category",
        "借读类别",
        "select",
        CATEGORIES,
        required=True,
        help="高中阶段仅限前八类（000 第二部分 第十一条）。",
    ),
    Field("start_date", "借读开始日期", "date", required=True),
    Field("end_date", "借读结束日期", "date", required=True),
    Field("note", "说明", "textarea"),
    Field("evidence", "借读申请及证明材料", "files", help=OPTIONAL_EVIDENCE_HELP),
)

BORROW_APPLY = register(
    FormSpec(
        key="borrow_apply",
        title="借读申请",
        schema=BorrowApplySchema,
        fields=(
            Field("id_number", "学生身份证号", required=True),
            Field("name", "学生姓名", required=True, help="须与学籍档案完全一致。"),
            Field("host_school_code", "借读学校代码", required=True),
            *_CORRECT_FIELDS,
        ),
    )
)

BORROW_CORRECT = register(
    FormSpec(
        key="borrow_correct",
        title="修改借读申请",
        schema=BorrowCorrectSchema,
        fields=_CORRECT_FIELDS,
    )
)
