"""What reaches people and what is kept of what they did: notices, uploaded files, the
audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context
from sqlalchemy import JSON, Index, text

from .base import db
from .clock import utcnow
from .organisations import User


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
