"""The audit log (审计日志) for admins: every recorded action, newest first, filterable by
action, and exported whole as a file (the admin blueprint lets only admins in)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from .. import exports, sheets
from ..models import AuditLog
from ..views_common import paginate
from . import bp


@bp.route("/audit")
def audit_index():
    """?action= narrows to one action (e.g. export, import_students); ?format=xlsx|csv."""
    action = request.args.get("action", "").strip()
    query = AuditLog.query
    if action:
        query = query.filter(AuditLog.action == action)
    fmt = request.args.get("format")
    if fmt is not None:
        return exports.download(fmt, sheets.audit_log(query), current_user, {"action": action})
    page = paginate(query.order_by(AuditLog.id.desc()))
    return render_template("admin/audit.html", page=page, action=action)
