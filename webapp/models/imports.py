"""An import from the browser or the API: the uploaded file, what its check found, and how
far the write has got. The check and the write are two steps (preview, then 确认导入), so the
file is kept on the row between them; a background worker reads it from here."""

from __future__ import annotations

from sqlalchemy import JSON

from .base import db
from .clock import utcnow

IMPORT_KINDS = ("students", "orgs", "results")
IMPORT_STATUSES = ("checked", "running", "done", "failed")


class ImportJob(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)  # students | orgs | results
    filename = db.Column(db.String(255), nullable=False)
    content = db.Column(db.LargeBinary, nullable=False)
    org_id = db.Column(db.Integer, db.ForeignKey("organization.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    status = db.Column(db.String(16), nullable=False, default="checked")
    progress = db.Column(db.Float, nullable=False, default=0.0)
    rows = db.Column(db.Integer, nullable=False, default=0)
    written = db.Column(db.Integer, nullable=False, default=0)
    # [{row, column, message}]: the check's problems, or why the write failed.
    problems = db.Column(JSON, nullable=False, default=list)
    ignored_columns = db.Column(JSON, nullable=False, default=list)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    finished_at = db.Column(db.DateTime)

    user = db.relationship("User")
    org = db.relationship("Organization")
