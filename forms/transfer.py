"""Transfer (转学) forms: the application, its correction after a return, the receiving
school's confirmation where the sending school starts (yuhong, shandong), and the receiving
county's placement (shandong: compulsory students are placed by the county, 相对就近) and
the placed school's class (编班).

The receiving side names the class before the record moves (RULES.md additions, "Class
placement"): the receiving school when it starts, in its confirmation otherwise, and the school a
county placed the student in, in its own step."""

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from . import GRADE_CHOICES, Field, FormSpec, register
from .evidence import OPTIONAL_EVIDENCE_HELP, optional_evidence
from .review import DECISIONS, ReviewSchema
from .validators import check_id_number

CLASS_NEEDED = "同意接收时须写明编入的班级（学籍转移前由转入方编定班级）。"
CLASS_NEEDED_AT_START = "转入学校发起转学时须写明转入班级（学籍转移前由转入学校编定班级）。"

REASONS = (("household_move", "户籍迁移"), ("parent_work", "父母工作调动"), ("other", "其他"))


class TransferCorrectSchema(Schema):
    to_grade = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(1, 12, error="年级必须在 1 到 12 之间。"),
        error_messages={"required": "请填写转入年级。", "invalid": "年级必须是整数。"},
    )
    # Left out of a correction, the class named before stays.
    to_class_name = fields.String(validate=validate.Length(max=32))
    reason = fields.String(
        required=True,
        validate=validate.OneOf([r for r, _ in REASONS], error="转学原因不在可选范围内。"),
        error_messages={"required": "请选择转学原因。"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class TransferApplySchema(TransferCorrectSchema):
    to_class_name = fields.String(load_default="", validate=validate.Length(max=32))
    id_number = fields.String(required=True, error_messages={"required": "请填写身份证号。"})
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        error_messages={"required": "请填写学生姓名。"},
    )
    # Where the student goes: a school, or (where the region's diagram says so) a county that
    # places the student, or a place outside the region. The starter decides which apply.
    to_school_code = fields.String(
        load_default=None,
        validate=validate.Length(max=32),
        metadata={"description": "转入学校代码（转入学校发起时为本校代码）"},
    )
    to_county_code = fields.String(
        load_default=None,
        validate=validate.Length(max=32),
        metadata={
            "description": "转入县（区）代码：地区流程有安置步骤时，义务教育阶段可代替转入学校"
        },
    )
    destination = fields.String(
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "转至市外的省、市：地区流程办理转至市外时，代替转入学校"},
    )

    @validates("id_number")
    def valid_id(self, value, **kwargs):
        check_id_number(value)

    def load(self, data, **kwargs):
        out = super().load(data, **kwargs)
        out["id_number"] = out["id_number"].strip().upper()
        out["name"] = out["name"].strip()
        for key in ("to_school_code", "to_county_code", "destination"):
            out[key] = (out[key] or "").strip() or None
        return out


class TransferPlaceSchema(Schema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["approve", "reject"], error="请选择是否同意接收。"),
        error_messages={"required": "请选择是否同意接收。"},
    )
    to_school_code = fields.String(load_default="", validate=validate.Length(max=32))
    to_class_name = fields.String(load_default="", validate=validate.Length(max=32))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def school_when_placing(self, data, **kwargs):
        if data["decision"] == "approve" and not data["to_school_code"].strip():
            raise ValidationError("同意接收时须写明安置学校代码。", "to_school_code")


class TransferClassSchema(Schema):
    """The school a county placed the student in names the class (编班)."""

    to_class_name = fields.String(
        required=True,
        validate=validate.Length(max=32),
        error_messages={"required": CLASS_NEEDED},
    )
    comment = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates("to_class_name")
    def class_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError(CLASS_NEEDED)

    def load(self, data, **kwargs):
        out = super().load(data, **kwargs)
        out["to_class_name"] = out["to_class_name"].strip()
        return out


class TransferReceiveSchema(ReviewSchema):
    """The receiving school confirms and names the class (or refuses, or returns)."""

    to_class_name = fields.String(load_default="", validate=validate.Length(max=32))

    @validates_schema
    def class_when_approving(self, data, **kwargs):
        if data.get("decision") == "approve" and not data.get("to_class_name", "").strip():
            raise ValidationError(CLASS_NEEDED, "to_class_name")

    def load(self, data, **kwargs):
        out = super().load(data, **kwargs)
        out["to_class_name"] = out["to_class_name"].strip()
        return out


_CORRECT_FIELDS = (
    Field(
        "to_grade",
        "转入年级",
        "select",
        GRADE_CHOICES,
        required=True,
        help="转学不改变年级。",
    ),
    Field(
        "to_class_name",
        "转入班级",
        help="转入学校发起时必填；由转出学校发起时，转入学校在确认接收时编定班级。",
    ),
    Field("reason", "转学原因", "select", REASONS, required=True),
    Field("note", "说明", "textarea"),
)

TRANSFER_APPLY = register(
    FormSpec(
        key="transfer_apply",
        title="转学申请",
        schema=TransferApplySchema,
        fields=(
            Field("id_number", "学生身份证号", required=True),
            Field("name", "学生姓名", required=True, help="须与学籍档案完全一致。"),
            *_CORRECT_FIELDS,
        ),
    )
)


class TransferCorrectionSchema(TransferCorrectSchema):
    evidence = optional_evidence()  # what the reviewer asked for when returning it


TRANSFER_CORRECT = register(
    FormSpec(
        key="transfer_correct",
        title="修改转学申请",
        schema=TransferCorrectionSchema,
        fields=(
            *_CORRECT_FIELDS,
            Field("evidence", "补充材料", "files", help=OPTIONAL_EVIDENCE_HELP),
        ),
    )
)

TRANSFER_PLACE = register(
    FormSpec(
        key="transfer_place",
        title="同意接收并安置入学",
        schema=TransferPlaceSchema,
        fields=(
            Field(
                "decision",
                "意见",
                "radio",
                (("approve", "同意接收，安置到下列学校"), ("reject", "不同意接收")),
                required=True,
            ),
            Field(
                "to_school_code",
                "安置学校代码",
                help="按相对就近的原则，安置到本县（区）设有该学段的学校；转出学校写明了学校的，"
                "同意时填写该校代码，或另行安置。",
            ),
            Field("to_class_name", "建议班级", help="可不填：由安置的学校编班。"),
            Field("comment", "说明", "textarea"),
        ),
    )
)

TRANSFER_RECEIVE = register(
    FormSpec(
        key="review_receive",
        title="转入学校确认接收并编班",
        schema=TransferReceiveSchema,
        fields=(
            Field("decision", "意见", "radio", DECISIONS, required=True),
            Field("to_class_name", "编入班级", help="同意接收时必填，如“2”或“四（2）班”。"),
            Field("comment", "意见说明", "textarea", help="不同意或退回时必填。"),
        ),
    )
)

TRANSFER_CLASS = register(
    FormSpec(
        key="transfer_class",
        title="转入学校编班",
        schema=TransferClassSchema,
        fields=(
            Field("to_class_name", "编入班级", required=True, help="如“2”或“四（2）班”。"),
            Field("comment", "说明", "textarea"),
        ),
    )
)
