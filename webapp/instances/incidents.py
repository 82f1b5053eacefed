"""Incidents: automatic steps that failed after their retries. Admins see all of them, a
county those of its own area; either may retry the step or cancel the instance."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflows import incidents as handling
from workflows import jurisdiction
from workflows.errors import Conflict, Forbidden, NotFound

from ..models import Incident, Instance
from ..views_common import paginate, safe_next
from . import bp

HANDLING_ROLES = ("admin", "county")


def _may_handle() -> None:
    if current_user.role not in HANDLING_ROLES:
        abort(403)


@bp.route("/incidents")
@login_required
def incidents():
    """Open incidents in reach, newest first (?all=1 shows the handled ones too)."""
    _may_handle()
    visible = jurisdiction.instances(current_user).with_entities(Instance.id)
    query = Incident.query.filter(Incident.instance_id.in_(visible))
    show_all = request.args.get("all") == "1"
    if not show_all:
        query = query.filter(Incident.resolved_at.is_(None))
    page = paginate(query.order_by(Incident.created_at.desc(), Incident.id.desc()))
    return render_template("instances/incidents.html", page=page, show_all=show_all)


def _act(incident_id: int, verb, done: str):
    _may_handle()
    back = safe_next(request.form.get("back"), url_for("instances.incidents"))
    try:
        instance = verb()
    except NotFound:
        abort(404)
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(done.format(id=instance.id), "success")
    return redirect(back)


@bp.route("/incidents/<int:incident_id>/retry", methods=["POST"])
@login_required
def retry_incident(incident_id: int):
    return _act(
        incident_id,
        lambda: handling.retry_incident(incident_id, current_user),
        "已重新执行业务 {id} 的失败步骤。",
    )


@bp.route("/incidents/<int:incident_id>/cancel", methods=["POST"])
@login_required
def cancel_incident(incident_id: int):
    comment = request.form.get("comment", "").strip()
    if not comment:
        flash("撤销业务须填写理由。", "error")
        return redirect(safe_next(request.form.get("back"), url_for("instances.incidents")))
    return _act(
        incident_id,
        lambda: handling.cancel_incident(incident_id, current_user, comment),
        "业务 {id} 已撤销。",
    )
