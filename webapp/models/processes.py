"""Procedures: deployed versions, instances, their steps, history and incidents, who may
see an instance (scope rows), and the lease one process takes for the scan."""

from __future__ import annotations

from sqlalchemy import JSON, Index, UniqueConstraint

from .base import db
from .clock import utcnow


class ProcessVersion(db.Model):
    """A deployed BPMN (+ DMN) of one procedure and variant; instances point at one."""

    id = db.Column(db.Integer, primary_key=True)
    procedure = db.Column(db.String(32), nullable=False)
    variant = db.Column(db.String(32), nullable=False, default="default")
    version = db.Column(db.Integer, nullable=False)
    bpmn_xml = db.Column(db.Text, nullable=False)
    dmn = db.Column(JSON, nullable=False, default=dict)
    # The segments (called processes) the diagram calls, {segment id: BPMN}; None: a version
    # from before segments, which calls none.
    segments = db.Column(JSON)
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
    claimed_at = db.Column(db.DateTime)  # since when claimed_by holds it
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
        # The inbox sorted by due date (most urgent first), and its "overdue only" filter.
        Index("ix_human_task_inbox_due", "org_id", "role", "state", "due_at"),
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
