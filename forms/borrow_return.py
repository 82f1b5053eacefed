"""The end of a borrow-study (借读结束, 返回原校): what the host school recorded (RULES.md §3)."""

import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from webapp.models import RESULT_KINDS

from . import Field, FormSpec, register
from .evidence import OPTIONAL_EVIDENCE_HELP, optional_evidence
from .validators import DATE_ERRORS, iso_dates

RESULT_FIELDS = ("term", "subject", "kind", "result", "credits")
LEVELS = {"pass": "pass", "fail": "fail", "合格": "pass", "不合格": "fail"}
_CREDITS = re.compile(r"\d{1,3}(\.\d)?")
MAX_RESULT_ROWS = 200


def _result_row(number: int, row) -> dict:
    """One result the host recorded: term, subject, kind, pass/fail, credits (optional)."""
    if isinstance(row, str):
        row = dict(zip(RESULT_FIELDS, re.split(r"[\s,，]+", row.strip()), strict=False))
    if not isinstance(row, dict):
        raise ValidationError(f"第 {number} 条成绩格式不正确。")
    term, subject = str(row.get("term") or "").strip(), str(row.get("subject") or "").strip()
    kind, level = str(row.get("kind") or "").strip(), str(row.get("result") or "").strip()
    credits = str(row.get("credits") or "").strip()
    if not term or not subject or len(term) > 32 or len(subject) > 64:
        raise ValidationError(f"第 {number} 条成绩须写明学期和科目。")
    if kind not in RESULT_KINDS:
        raise ValidationError(
            f"第 {number} 条成绩的类别“{kind}”不是 {'、'.join(RESULT_KINDS)} 之一。"
        )
    if level not in LEVELS:
        raise ValidationError(f"第 {number} 条成绩的结果应为合格（pass）或不合格（fail）。")
    if credits and not _CREDITS.fullmatch(credits):
        raise ValidationError(f"第 {number} 条成绩的学分应为不超过一位小数的非负数。")
    out = {"term": term, "subject": subject, "kind": kind, "result": LEVELS[level]}
    return {**out, "credits": credits or None}


class ResultRows(fields.Field):
    """The host's results as rows: a list of objects (API) or one line each (browser form):
    学期 科目 类别 结果 [学分]."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [line for line in value.splitlines() if line.strip()]
        if not isinstance(value, list) or len(value) > MAX_RESULT_ROWS:
            raise ValidationError(f"成绩应逐条填写，最多 {MAX_RESULT_ROWS} 条。")
        return [_result_row(n, row) for n, row in enumerate(value, 1)]


class BorrowReturnSchema(Schema):
    end_date = fields.Date(
        required=True,
        error_messages={"required": "请填写借读结束（返回原校）日期。", **DATE_ERRORS},
    )
    results = fields.String(
        required=True,
        validate=validate.Length(min=1, max=4000, error="借读期间记录不能为空，最多 4000 字。"),
        error_messages={"required": "请填写借读期间的成绩、评定和奖惩记录。"},
    )
    result_rows = ResultRows(
        load_default=list,
        metadata={
            "description": "借读期间各科成绩：对象数组（term, subject, kind, result: pass|fail, "
            "credits 可选），或每行一条的文本“学期 科目 类别 结果 [学分]”。",
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = optional_evidence()

    @validates_schema
    def results_not_blank(self, data, **kwargs):
        if "results" in data and not data["results"].strip():
            raise ValidationError("请填写借读期间的成绩、评定和奖惩记录。", field_name="results")

    @post_load
    def dates_as_text(self, data, **kwargs):
        data["results"] = data["results"].strip()
        return iso_dates(data, "end_date")


BORROW_RETURN_APPLY = register(
    FormSpec(
        key="borrow_return_apply",
        title="借读结束（返回原校）",
        schema=BorrowReturnSchema,
        fields=(
            Field("end_date", "借读结束日期", "date", required=True),
            Field(
                "results",
                "借读期间成绩、评定和奖惩",
                "textarea",
                required=True,
                help="由借读学校记录的学业成绩、综合评定、奖励和处分，将随学籍档案带回原校。",
            ),
            Field(
                "result_rows",
                "借读期间各科成绩（计入毕业审核）",
                "textarea",
                help="每行一条：学期 科目 类别 结果 学分，如“2026-2027-1 语文 core 合格”；"
                "类别为 core、other、conduct、pe、required、elective2、elective、internship、"
                "certificate 之一。这些成绩以借读学校的名义存入学籍档案，毕业审核时计入。",
            ),
            Field("note", "说明", "textarea"),
            Field("evidence", "借读学校成绩单等材料", "files", help=OPTIONAL_EVIDENCE_HELP),
        ),
    )
)
