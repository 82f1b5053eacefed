"""The API's output schemas of a student record: the record with the national template's
fields, its borrowing, certificates and history, and a page of records."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields

from webapp.models import STATUSES
from webapp.models.codes import RESIDENT_ID
from webapp.paging import COUNT_BOUND


class UtcDateTime(fields.DateTime):
    """A stored (naive UTC) time as RFC 3339 with its zone: `2026-09-01T08:00:00+00:00`."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class BorrowingOut(Schema):
    host_school_code = fields.Function(lambda s: s.borrow_host.code)
    start_date = fields.Date(attribute="borrow_start")
    end_date = fields.Date(attribute="borrow_end")


class CertificateOut(Schema):
    kind = fields.String()
    number = fields.String()
    issued_at = UtcDateTime()


class StatusChangeOut(Schema):
    at = UtcDateTime()
    procedure = fields.String()
    instance_id = fields.Integer(allow_none=True)
    before = fields.Dict()
    after = fields.Dict()


class AddressesOut(Schema):
    current = fields.String(attribute="address_current", allow_none=True)
    mail = fields.String(attribute="address_mail", allow_none=True)
    home = fields.String(attribute="address_home", allow_none=True)


class MemberOut(Schema):
    """A family member as the national template's 成员1/成员2 columns hold one."""

    name = fields.String(allow_none=True)
    relation = fields.String(allow_none=True)
    id_type = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True)
    ethnicity = fields.String(allow_none=True)
    employer = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    guardian = fields.Boolean(allow_none=True)
    household_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class StudentOut(Schema):
    id = fields.Integer()
    id_number = fields.String()
    id_type = fields.Function(lambda s: s.id_type or RESIDENT_ID)
    name = fields.String()
    gender = fields.String(metadata={"enum": ["M", "F"]})
    birth_date = fields.Date()
    school_code = fields.Function(lambda s: s.school.code)
    school_name = fields.Function(lambda s: s.school.name)
    grade = fields.Integer()
    class_name = fields.String(allow_none=True)
    entry_year = fields.Integer()
    entry_month = fields.Integer(allow_none=True)
    addresses = fields.Function(lambda s: AddressesOut().dump(s), metadata={"type": "object"})
    members = fields.Function(
        lambda s: MemberOut(many=True).dump(s.members or []),
        metadata={"type": "array", "items": {"type": "object"}},
    )
    # The template's other columns (政治面貌 …) by header, as the file wrote them.
    national_extra = fields.Function(lambda s: s.national_extra or {}, metadata={"type": "object"})
    ethnicity = fields.String(allow_none=True)
    native_place = fields.String(allow_none=True)
    birthplace_code = fields.String(allow_none=True)
    household_code = fields.String(allow_none=True)
    nationality = fields.String(allow_none=True)
    overseas = fields.String(allow_none=True)
    health = fields.String(allow_none=True)
    household_type = fields.String(allow_none=True)
    class_number = fields.String(allow_none=True)
    admission_mode = fields.String(allow_none=True)
    study_mode = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    status_number = fields.String(allow_none=True)
    borrowing = fields.Method("_borrowing", metadata={"type": "object", "nullable": True})
    certificates = fields.List(fields.Nested(CertificateOut))
    history = fields.List(fields.Nested(StatusChangeOut))

    def _borrowing(self, student) -> dict | None:
        return BorrowingOut().dump(student) if student.borrow_host_id else None


class StudentList(Schema):
    items = fields.List(fields.Nested(StudentOut))
    total = fields.Integer()
    total_capped = fields.Boolean(
        metadata={
            "description": f"present (true) when more than {COUNT_BOUND} match; total then says {COUNT_BOUND}"
        }
    )
