"""All database tables in one place. Views and handlers query through these classes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone

from flask import has_request_context
from flask_login import UserMixin
from sqlalchemy import JSON, Index, UniqueConstraint, text
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

LEVELS = ("province", "city", "county", "school")
STAGES = ("primary", "junior", "senior", "vocational")
ROLES = ("school", "county", "city", "province", "admin")
STATUSES = ("enrolled", "suspended", "graduated", "completed", "left", "withdrawn", "cancelled")
ACTIVE_STATUSES = ("enrolled", "suspended")
STATUS_LABELS = {
    "enrolled": "在籍",
    "suspended": "休学",
    "graduated": "毕业",
    "completed": "结业/修业",
    "left": "肄业",
    "withdrawn": "退学",
    "cancelled": "注销",
}
ROLE_LABELS = {
    "school": "学校学籍管理员",
    "county": "县（区）教育局",
    "city": "市教育局",
    "province": "省教育厅",
    "admin": "平台管理员",
}
LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）", "school": "学校"}


# China has one time zone and no daylight saving: stored times are UTC, shown as UTC+8;
# dates on forms and certificates are China's calendar days.
CHINA = timezone(timedelta(hours=8))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# The day a test-bench scenario runs on (`on:`), in the sandbox only; None is the real day.
_SCENARIO_DAY: ContextVar[date | None] = ContextVar("scenario_day", default=None)


def china_today() -> date:
    return _SCENARIO_DAY.get() or datetime.now(CHINA).date()


@contextmanager
def scenario_day(day: date | None) -> Iterator[None]:
    """Let the calendar rules (china_today) see `day` while a scenario runs."""
    token = _SCENARIO_DAY.set(day)
    try:
        yield
    finally:
        _SCENARIO_DAY.reset(token)


def china_midnight(day: date) -> str:
    """The start of `day` in China as ISO text: what a BPMN timeDate waits for."""
    return datetime.combine(day, datetime.min.time(), tzinfo=CHINA).isoformat()


class Organization(db.Model):
    """A node of the tree province → city → county → school."""

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), unique=True, nullable=False)
    name = db.Column(db.String(128), nullable=False)
    level = db.Column(db.String(16), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("organization.id"), index=True)
    stages = db.Column(db.String(64))  # "primary+junior"
    ownership = db.Column(db.String(16))  # public | private
    star = db.Column(db.Integer)
    variant = db.Column(db.String(32))

    parent = db.relationship("Organization", remote_side=[id], backref="children")

    @property
    def stage_list(self) -> list[str]:
        return [s for s in (self.stages or "").split("+") if s]

    def ancestor(self, level: str) -> Organization | None:
        """The organisation at `level` above (or equal to) this one."""
        org: Organization | None = self
        while org is not None and org.level != level:
            org = org.parent
        return org

    def lineage(self) -> list[Organization]:
        out, org = [], self
        while org is not None:
            out.append(org)
            org = org.parent
        return out

    def __repr__(self) -> str:
        return f"<Org {self.code} {self.name}>"


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)
    role = db.Column(db.String(16), nullable=False)
    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False, index=True)
    display_name = db.Column(db.String(64))
    active = db.Column(db.Boolean, default=True, nullable=False)
    email = db.Column(db.String(254))  # notices are also mailed here when SMTP is set up
    # Session cookies and API tokens carry this generation: raising it revokes them all.
    session_epoch = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    created_at = db.Column(db.DateTime, default=utcnow)
    last_login_at = db.Column(db.DateTime)
    unfrozen_at = db.Column(db.DateTime)  # an admin lifted the freeze of an unused account

    org = db.relationship("Organization")

    def get_id(self) -> str:
        """What a session cookie names: the user and the session generation it was issued in."""
        return f"{self.id}:{self.session_epoch}"

    def revoke_sessions(self) -> None:
        """Sign the user out everywhere: every cookie and token issued so far stops working."""
        self.session_epoch = User.session_epoch + 1  # atomic, whatever another request does
        db.session.flush()

    @property
    def idle_since(self) -> datetime | None:
        """Since when the account was last used (signed in, created or unfrozen)."""
        times = [t for t in (self.created_at, self.last_login_at, self.unfrozen_at) if t]
        return max(times, default=None)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def label(self) -> str:
        return self.display_name or self.username


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


RESULT_KINDS = (
    "core",
    "other",
    "conduct",
    "pe",
    "required",
    "elective2",
    "elective",
    "internship",
    "certificate",
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

    __table_args__ = (Index("ix_result_student_current", "student_id", "current"),)


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


CLASSIFICATIONS = ("graduated", "completed", "left")


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


class ProcessVersion(db.Model):
    """A deployed BPMN (+ DMN) of one procedure and variant; instances point at one."""

    id = db.Column(db.Integer, primary_key=True)
    procedure = db.Column(db.String(32), nullable=False)
    variant = db.Column(db.String(32), nullable=False, default="default")
    version = db.Column(db.Integer, nullable=False)
    bpmn_xml = db.Column(db.Text, nullable=False)
    dmn = db.Column(JSON, nullable=False, default=dict)
    spec_json = db.Column(db.Text, nullable=False)
    content_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))  # None: from the files

    created_by = db.relationship("User")

    __table_args__ = (UniqueConstraint("procedure", "variant", "version"),)


class Instance(db.Model):
    """A running or finished procedure. `lock_version` makes concurrent saves fail loudly."""

    id = db.Column(db.Integer, primary_key=True)
    procedure = db.Column(db.String(32), nullable=False, index=True)
    process_version_id = db.Column(db.Integer, db.ForeignKey("process_version.id"), nullable=False)
    variant = db.Column(db.String(32), nullable=False, default="default")
    status = db.Column(db.String(16), nullable=False, default="running", index=True)
    reason = db.Column(db.String(64))
    reason_message = db.Column(db.Text)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), index=True)
    # Set while the instance is open: the unique index allows one open procedure per student.
    open_student_id = db.Column(db.Integer, db.ForeignKey("student.id"), unique=True)
    # None for an instance the platform started itself (e.g. withdrawal after a suspension).
    initiator_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    # The schools involved; jurisdiction over either makes the instance visible.
    school_id = db.Column(db.Integer, db.ForeignKey("organization.id"), index=True)
    partner_school_id = db.Column(db.Integer, db.ForeignKey("organization.id"), index=True)
    region_id = db.Column(db.Integer, db.ForeignKey("organization.id"))
    state = db.Column(db.Text, nullable=False)
    data = db.Column(JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False, index=True)
    updated_at = db.Column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
    finished_at = db.Column(db.DateTime)
    # When the earliest timer this instance waits on falls due (UTC); the timer scan reads it.
    wake_at = db.Column(db.DateTime, index=True)
    # Automatic steps are queued for a background worker since then (None: nothing queued).
    pending_since = db.Column(db.DateTime, index=True)
    lock_version = db.Column(db.Integer, nullable=False, default=1)

    process_version = db.relationship("ProcessVersion")
    student = db.relationship("Student", foreign_keys=[student_id])
    initiator = db.relationship("User")
    school = db.relationship("Organization", foreign_keys=[school_id])
    partner_school = db.relationship("Organization", foreign_keys=[partner_school_id])
    tasks = db.relationship("HumanTask", order_by="HumanTask.id", back_populates="instance")
    events = db.relationship("InstanceEvent", order_by="InstanceEvent.id")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(db.Model):
    """A user task, open or done, routed to one organisation and role (the inbox index)."""

    id = db.Column(db.Integer, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), nullable=False, index=True)
    task_uuid = db.Column(db.String(36), nullable=False)
    step = db.Column(db.String(64), nullable=False)  # BPMN element id
    name = db.Column(db.String(128), nullable=False)
    lane = db.Column(db.String(32), nullable=False)
    form_key = db.Column(db.String(64), nullable=False)
    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False)
    role = db.Column(db.String(16), nullable=False)
    state = db.Column(db.String(16), nullable=False, default="open")  # open|completed|cancelled
    claimed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    due_at = db.Column(db.DateTime)
    completed_at = db.Column(db.DateTime)
    completed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    reminded_at = db.Column(db.DateTime)  # the due-date reminder went out (once)

    instance = db.relationship("Instance", back_populates="tasks")
    org = db.relationship("Organization")
    claimed_by = db.relationship("User", foreign_keys=[claimed_by_id])
    completed_by = db.relationship("User", foreign_keys=[completed_by_id])

    __table_args__ = (
        Index("ix_human_task_inbox", "org_id", "role", "state", "created_at"),
        Index("ix_human_task_due", "state", "due_at"),  # reminders and overdue lists
    )


class InstanceEvent(db.Model):
    """The history of an instance: who did which step, when, with what decision."""

    id = db.Column(db.Integer, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), nullable=False, index=True)
    step = db.Column(db.String(64), nullable=False)
    name = db.Column(db.String(128), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"))
    at = db.Column(db.DateTime, default=utcnow, nullable=False)
    decision = db.Column(db.String(16))
    comment = db.Column(db.Text)

    user = db.relationship("User")
    org = db.relationship("Organization")


class Incident(db.Model):
    """An automatic step that failed after its retries: the instance waits for an admin."""

    id = db.Column(db.Integer, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), nullable=False, index=True)
    step = db.Column(db.String(64), nullable=False)
    error = db.Column(db.Text, nullable=False)
    tries = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    resolved_at = db.Column(db.DateTime)
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    resolution = db.Column(db.String(16))  # retried | cancelled

    instance = db.relationship("Instance")
    resolved_by = db.relationship("User")


class Notification(db.Model):
    """A notice to one organisation (and role; None: all its users). See workflows/notices.py.

    Notices about a waiting step point at the task (`task_id`); notices about an
    instance's outcome (completed, rejected) carry `instance_id`.
    """

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False, index=True)
    role = db.Column(db.String(16))
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"))
    task_id = db.Column(db.Integer, db.ForeignKey("human_task.id"))
    kind = db.Column(db.String(16))  # task | returned | reminder | rejected | completed
    message = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    read_at = db.Column(db.DateTime)

    org = db.relationship("Organization")
    task = db.relationship("HumanTask")

    __table_args__ = (
        Index("ix_notification_list", "org_id", "created_at"),
        # The unread count on every page reads only unread rows of one organisation.
        Index(
            "ix_notification_unread",
            "org_id",
            "role",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
    )


class StudentScope(db.Model):
    """Who may see a record, as rows: every organisation above its school and, while it
    borrows, above its host. A county's list is then one range of this primary key instead
    of hundreds of school ids. Kept by `webapp.scope` whenever a record's schools change."""

    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), primary_key=True)
    student_id = db.Column(db.Integer, db.ForeignKey("student.id"), primary_key=True, index=True)


class InstanceScope(db.Model):
    """Who may see an instance: every organisation above either school and above every
    organisation a step of it was routed to. Kept by `webapp.scope`."""

    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("instance.id"), primary_key=True, index=True)


class Lease(db.Model):
    """A named job that one process of a deployment runs at a time (the periodic scan)."""

    name = db.Column(db.String(32), primary_key=True)
    holder = db.Column(db.String(64), nullable=False)
    until = db.Column(db.DateTime, nullable=False)


class FileUpload(db.Model):
    """Evidence (PDF, JPEG, PNG). Readable by whoever can see an instance that cites it."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False)
    content_type = db.Column(db.String(64), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    content = db.Column(db.LargeBinary, nullable=False)
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)


class AuditLog(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime, default=utcnow, nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    action = db.Column(db.String(64), nullable=False)
    object_type = db.Column(db.String(32))
    object_id = db.Column(db.String(64))
    before = db.Column(JSON)
    after = db.Column(JSON)
    actor = db.Column(db.String(64))  # "cli:<login user>" for a command at a terminal

    user = db.relationship("User")


# Who acts where no signed-in user does: a command names the person at the terminal.
_ACTOR: ContextVar[str | None] = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Audit rows written inside carry `actor` (a web request always speaks for its user)."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def audit(user: User | None, action: str, obj=None, before=None, after=None) -> AuditLog:
    """Record an action in the audit log (same transaction as the change itself)."""
    entry = AuditLog(
        actor=None if has_request_context() else _ACTOR.get(),
        user_id=user.id if user is not None and getattr(user, "id", None) else None,
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) else None,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry
