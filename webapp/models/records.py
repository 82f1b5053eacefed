"""Student records: the record, its history, results, certificates, cohort rosters, and who
may see it (scope rows)."""

from __future__ import annotations

from sqlalchemy import JSON, Index, UniqueConstraint, text

from .base import db
from .clock import utcnow
from .vocabulary import ACTIVE_STATUSES, STATUS_LABELS


class Student(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    id_number = db.Column(db.String(18), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    gender = db.Column(db.String(1), nullable=False)
    birth_date = db.Column(db.Date, nullable=False)
    ethnicity = db.Column(db.String(32))
    school_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False, index=True)
    grade = db.Column(db.Integer, nullable=False)
    class_name = db.Column(db.String(32))
    entry_year = db.Column(db.Integer, nullable=False)
    household_code = db.Column(db.String(12))
    guardian_name = db.Column(db.String(64))
    guardian_phone = db.Column(db.String(32))
    # The national student template's fields (001 学生信息模板录入指南), as the template
    # writes them; division codes keep their 12 digits. See forms/student_fields.py.
    id_type = db.Column(db.String(16))  # None: 居民身份证
    native_place = db.Column(db.String(64))
    birthplace_code = db.Column(db.String(12))
    nationality = db.Column(db.String(32))
    overseas = db.Column(db.String(8))  # 港澳台侨外
    health = db.Column(db.String(16))
    household_type = db.Column(db.String(16))
    class_number = db.Column(db.String(7))  # 班号: entry year + stage digit + class
    entry_month = db.Column(db.Integer)  # 入学年月's month
    admission_mode = db.Column(db.String(16))
    study_mode = db.Column(db.String(8))
    address_current = db.Column(db.String(128))
    address_mail = db.Column(db.String(128))
    address_home = db.Column(db.String(128))
    phone = db.Column(db.String(32))
    # Family members: [{name, relation, id_type, id_number, ethnicity, employer, phone,
    # guardian, household_code, address}], at most two as in the template.
    members = db.Column(JSON)
    # The template's other columns (政治面貌, 是否留守儿童 …) by header, kept as written so
    # an export in the national layout gives them back.
    national_extra = db.Column(JSON)
    status = db.Column(db.String(16), nullable=False, default="enrolled", index=True)
    status_number = db.Column(db.String(32), index=True)
    # Borrow-study: the student sits at a host school while the status stays here.
    borrow_host_id = db.Column(db.Integer, db.ForeignKey("organization.id"))
    borrow_start = db.Column(db.Date)
    borrow_end = db.Column(db.Date)
    suspended_until = db.Column(db.Date)

    school = db.relationship("Organization", foreign_keys=[school_id])
    borrow_host = db.relationship("Organization", foreign_keys=[borrow_host_id])
    history = db.relationship(
        "StatusHistory", order_by="StatusHistory.id", back_populates="student"
    )
    certificates = db.relationship("Certificate", order_by="Certificate.id")

    __table_args__ = (
        Index("ix_student_school_grade_class", "school_id", "grade", "class_name"),
        # Search (webapp/search.py): prefixes of ID and status numbers, parts of a name.
        Index(
            "ix_student_id_number_prefix",
            "id_number",
            postgresql_ops={"id_number": "varchar_pattern_ops"},
        ),
        Index(
            "ix_student_status_number_prefix",
            "status_number",
            postgresql_ops={"status_number": "varchar_pattern_ops"},
        ),
        Index(
            "ix_student_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        # One student, one status: the database itself refuses a second active status for
        # an ID number, whatever race the checks before it lose.
        Index(
            "uq_student_one_active_status",
            "id_number",
            unique=True,
            sqlite_where=text("status IN ('enrolled', 'suspended')"),
            postgresql_where=text("status IN ('enrolled', 'suspended')"),
        ),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def stage(self) -> str:
        """The stage the student is in, from the grade and the school's stages."""
        if self.grade <= 6:
            return "primary"
        if self.grade <= 9:
            return "junior"
        stages = self.school.stage_list if self.school else []
        return "vocational" if "vocational" in stages and "senior" not in stages else "senior"


class StatusHistory(db.Model):
    """One row per change of a student's record, written only by a final automatic step."""

    id = db.Column(db.Integer, primary_key=True)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), nullable=False, index=True)
    at = db.Column(db.DateTime, default=utcnow, nullable=False)
    procedure = db.Column(db.String(32), nullable=False)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), index=True)
    before = db.Column(JSON, nullable=False)
    after = db.Column(JSON, nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # 0: the instance's change of the record; n: its n-th later amendment (a suspension's
    # n-th extension). One row each, so a handler that runs twice writes nothing twice.
    seq = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    student = db.relationship("Student", back_populates="history")
    __table_args__ = (
        UniqueConstraint("instance_id", "student_id", "seq", name="uq_status_history_change"),
    )


class Result(db.Model):
    """A recorded level (pass/fail, never a raw score) in one subject of one term.

    A make-up exam adds a newer row for the same student, term and subject; the older one
    stays with `current` false, so both remain in the history.
    """

    id = db.Column(db.Integer, primary_key=True)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), nullable=False)
    term = db.Column(db.String(32), nullable=False)
    subject = db.Column(db.String(64), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    result = db.Column(db.String(4), nullable=False)  # pass | fail
    credits = db.Column(db.Numeric(5, 1))
    current = db.Column(db.Boolean, nullable=False, default=True)
    recorded_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    source = db.Column(db.String(255))
    # The school where the student earned it, when not the school holding the status (a
    # borrowing host's results kept at the end of the borrow-study, 000 说明5).
    school_id = db.Column(db.Integer, db.ForeignKey("organization.id"))

    __table_args__ = (Index("ix_result_student_current", "student_id", "current"),)


class HostedCopy(db.Model):
    """The read-only copy of a record a borrowing host keeps after the student went back
    (000 说明5 "借读学校…要留存学生电子档案"): the record as it stood when the borrowing
    ended. The host reads it by (host, student), one index lookup; it gives no other reach."""

    id = db.Column(db.Integer, primary_key=True)
    host_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), nullable=False)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), nullable=False, unique=True)
    record = db.Column(JSON, nullable=False)
    kept_at = db.Column(db.DateTime, default=utcnow, nullable=False)

    host = db.relationship("Organization")

    __table_args__ = (Index("ix_hosted_copy_host_student", "host_id", "student_id"),)


class Certificate(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), nullable=False, index=True)
    kind = db.Column(db.String(32), nullable=False)
    number = db.Column(db.String(64), unique=True, nullable=False)
    issued_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"))


class CertificateSerial(db.Model):
    """The last serial issued under one certificate-number prefix (year + school digits).

    Serials are reserved by one atomic UPDATE, so two cohorts finishing at once (even of
    schools whose codes end alike) never draw the same number.
    """

    prefix = db.Column(db.String(32), primary_key=True)
    last = db.Column(db.Integer, nullable=False, default=0)


class RosterEntry(db.Model):
    """One student on a cohort procedure's roster: the classification, its reasons, the
    reviewers' changes, and in the end the certificate number. Kept as the record."""

    id = db.Column(db.Integer, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), nullable=False)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), nullable=False)
    class_name = db.Column(db.String(32))
    stage = db.Column(db.String(16), nullable=False)
    classification = db.Column(db.String(16), nullable=False)
    reasons = db.Column(JSON, nullable=False, default=list)
    struck = db.Column(db.Boolean, nullable=False, default=False)
    comment = db.Column(db.Text)  # the reviewer's reason for a strike or a change
    changed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    certificate_number = db.Column(db.String(64), unique=True)

    student = db.relationship("Student")
    changed_by = db.relationship("User")

    __table_args__ = (
        UniqueConstraint("instance_id", "student_id"),
        Index("ix_roster_entry_instance_class", "instance_id", "class_name"),
    )


class StudentScope(db.Model):
    """Who may see a record, as rows: every organisation above its school and, while it
    borrows, above its host. A county's list is then one range of this primary key instead
    of hundreds of school ids. Kept by `webapp.scope` whenever a record's schools change."""

    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), primary_key=True)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), primary_key=True, index=True)
