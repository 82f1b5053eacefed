"""Suspension (休学) forms: the application, the reexamination, the reminder at the end date,
the extension and the county's filing (RULES.md §2)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import Field, FormSpec, register, yes_no
from .evidence import EVIDENCE, NOTE, evidence_field
from .review import DECISIONS, review_form
from .validators import required_date

SUSPENSION_REASONS = (
    ("illness", "疾病"),
    ("contagious", "传染病（传染期内）"),
    ("force_majeure", "不可抗力"),
    ("abroad", "出国（境）"),
    ("military", "应征入伍"),
)
# A reason whose length or weight a region's tables may read from a number of months: the
# service length (Fujian vocational, 002 第十三条) and the treatment period (Shandong, ⑦ 第十八条).
MONTHS_FOR_REASON = {
    "military": ("service_months", "服役期限（月）"),
    "contagious": ("treatment_months", "治疗期（月）"),
}


def _hours(label: str, required: bool) -> fields.Integer:
    return fields.Integer(
        required=required,
        strict=False,
        allow_none=not required,
        validate=validate.Range(0, 5000, error=f"{label}必须在 0 到 5000 之间。"),
        error_messages={"required": f"请填写{label}。", "invalid": f"{label}必须是整数。"},
    )


def _months(label: str) -> fields.Integer:
    return fields.Integer(
        strict=False,
        allow_none=True,
        validate=validate.Range(1, 120, error=f"{label}必须在 1 到 120 之间。"),
        error_messages={"invalid": f"{label}必须是整数。"},
    )


class SuspensionSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(
            [c for c, _ in SUSPENSION_REASONS], error="休学原因不在可选范围内。"
        ),
        error_messages={"required": "请选择休学原因。"},
    )
    absence_hours = _hours("缺课课时", required=True)
    year_hours = _hours("本学年总课时", required=False)
    term_hours = _hours("本学期总课时", required=False)
    start_date = required_date("休学开始日期")
    service_months = _months("服役期限（月）")
    treatment_months = _months("治疗期（月）")
    # Where a graduating-year suspension needs the principal's and head teacher's signatures
    # (Zhushan, 003 篇10 五): the signed page is among the evidence.
    principal_signed = fields.Boolean(
        load_default=False, error_messages={"invalid": "请选择“是”或“否”。"}
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()

    @validates_schema
    def months_for_the_reason(self, data, **kwargs):
        """Every region asks for them (the form is shared); only some tables read them."""
        name, label = MONTHS_FOR_REASON.get(data.get("reason"), (None, None))
        if name and data.get(name) is None:
            reason = dict(SUSPENSION_REASONS)[data["reason"]]
            raise ValidationError(f"休学原因为“{reason}”时必须填写{label}。", field_name=name)


class ReexaminationSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()


class AcknowledgeSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))


# At the end date the school either handles the resumption or asks for 续办休学 (000 第二十条
# 说明4; ⑦ 第十九条; 003 篇10).
REMINDER_DECISIONS = (("acknowledge", "知悉，将办理复学"), ("extend", "申请续办休学"))


class ReminderSchema(Schema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(
            [d for d, _ in REMINDER_DECISIONS], error="请选择“知悉，将办理复学”或“申请续办休学”。"
        ),
        error_messages={"required": "请选择处理方式。"},
    )
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field(required=False)

    @validates_schema
    def reason_and_evidence_to_extend(self, data, **kwargs):
        if data.get("decision") != "extend":
            return
        errors = {}
        if not data.get("comment", "").strip():
            errors["comment"] = ["申请续办休学时必须说明理由。"]
        if not data.get("evidence"):
            errors["evidence"] = ["申请续办休学时必须上传证明材料（如县级以上医院证明）。"]
        if errors:
            raise ValidationError(errors)


# The county decides an extension: approve, or refuse with a reason the school is told.
EXTENSION_DECISIONS = (("approve", "同意续办休学"), ("reject", "不同意续办休学"))
# A suspension the school must order (Shandong ⑦ 第十八条): the county files it, or returns
# it for corrections, but may not refuse it.
FILING_DECISIONS = (("approve", "予以备案"), DECISIONS[2])


SUSPENSION_APPLY = register(
    FormSpec(
        key="suspension_apply",
        title="休学申请",
        schema=SuspensionSchema,
        fields=(
            Field("reason", "休学原因", "select", SUSPENSION_REASONS, required=True),
            Field(
                "absence_hours",
                "已缺课课时",
                "number",
                required=True,
                help="缺课条件按本地区规定（见上方“本地区规定”；默认：义务教育阶段须超过 210 课时，出国、入伍不限）。",
            ),
            Field(
                "year_hours",
                "本学年总课时",
                "number",
                help="高中必填：按本学年总课时计算缺课比例（默认须超过三分之一）。",
            ),
            Field(
                "term_hours",
                "本学期总课时",
                "number",
                help="中职必填：按本学期总学时计算缺课比例（默认须超过三分之一，002 第十二条）。",
            ),
            Field(
                "start_date",
                "休学开始日期",
                "date",
                required=True,
                help="休学期按本地区规定（默认一年）；出国（境）休学自批准之日起计算。",
            ),
            Field(
                "service_months",
                "服役期限（月）",
                "number",
                help="应征入伍时必填（入伍通知书所载服役期限）；有的地区（如福建中职）休学期与服役期限相当。",
            ),
            Field(
                "treatment_months",
                "治疗期（月）",
                "number",
                help="传染病时必填（医疗机构出具的治疗期）；有的地区（如山东）治疗期半年以上的应令其休学。",
            ),
            yes_no(
                "principal_signed",
                "校长、班主任已签字（毕业年级）",
                help="毕业年级确需休学、本地区规定须校长和班主任签字并报教育局审批的（见上方"
                "“本地区规定”），选“是”并在证明材料中附签字的休学申请。",
            ),
            NOTE,
            Field(
                "evidence",
                "证明材料",
                "files",
                required=True,
                help="县级及以上医院诊断证明、住院记录，或公安、民政等证明；PDF、JPEG 或 PNG，单个不超过 10 MB。",
            ),
        ),
    )
)

SUSPENSION_REEXAMINATION = register(
    FormSpec(
        key="suspension_reexamination",
        title="上传指定医院复查材料",
        schema=ReexaminationSchema,
        fields=(NOTE, EVIDENCE),
    )
)

# The reminder of versions deployed before 续办休学: their instances keep their own diagram,
# which has no extension to ask for.
RESUMPTION_REMINDER = register(
    FormSpec(
        key="resumption_reminder",
        title="休学期满：办理复学提醒",
        schema=AcknowledgeSchema,
        fields=(Field("note", "处理情况", "textarea", help="如：已通知监护人办理复学。"),),
    )
)

SUSPENSION_REMINDER = register(
    FormSpec(
        key="suspension_reminder",
        title="休学期满：办理复学或续办休学",
        schema=ReminderSchema,
        fields=(
            Field("decision", "处理方式", "radio", REMINDER_DECISIONS, required=True),
            Field(
                "comment",
                "说明",
                "textarea",
                help="如：已通知监护人办理复学。申请续办休学时必填：仍不能复学的理由。",
            ),
            Field(
                "evidence",
                "证明材料",
                "files",
                help="申请续办休学时必传：监护人书面申请、县级以上医院证明等。PDF、JPEG 或 PNG，单个不超过 10 MB。",
            ),
        ),
    )
)

SUSPENSION_EXTENSION_REVIEW = review_form(
    "review_extension",
    "续办休学审核",
    EXTENSION_DECISIONS,
    "不同意续办休学时必须填写理由，该理由将通知学校。",
    "不同意时必填，将通知学校。",
)
SUSPENSION_FILING = review_form(
    "review_filing",
    "备案（应令休学，不得不予批准）",
    FILING_DECISIONS,
    "退回时必须填写理由。",
    "退回时必填。",
    decision_label="备案意见",
    tables=("suspension_mandatory",),  # only a suspension the school must order is filed
)
