"""The task inbox: open steps of the user's organisation and role, a task page, notifications."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms import FORMS
from webapp.models.vocabulary import PROCEDURES
from workflows import desk, engine, identity, jurisdiction, rosters
from workflows.errors import Conflict, Forbidden, Invalid, NotFound

from .. import exports, finding, lists, saved_filters, sheets
from ..extensions import db
from ..models import HumanTask, Instance, Notification, utcnow
from ..views_common import (
    INSTANCE_STATUS_LABELS,
    application_rows,
    evidence_files,
    general_errors,
    notifications_for,
    paginate,
    safe_next,
    submitted,
)
from . import bp


@bp.route("/")
@login_required
def index():
    """Open tasks of the user's organisation and role, filtered, most urgent first;
    ?format=xlsx|csv gives every filtered task as a file."""
    args = finding.load(finding.TaskFilters, request.args)
    query = finding.tasks(current_user, args)
    fmt = request.args.get("format")
    if fmt is not None:
        filters = finding.export_filters(args)
        return exports.download(fmt, sheets.tasks(query), current_user, filters)
    page = paginate(query.options(*lists.TASK_ROWS))
    others = {t.id for t in page.items if desk.needs_other_reviewer(t, current_user)}
    steps = finding.inbox_steps(current_user)
    return render_template(
        "inbox/index.html",
        page=page,
        needs_other=others,
        filters=args,
        steps=steps,
        counts=finding.procedure_counts(steps),
        saved=saved_filters.for_page(current_user, "inbox"),
    )


def _task_or_404(task_id: int) -> HumanTask:
    task = jurisdiction.task_or_none(current_user, task_id)
    if task is None:
        abort(404)
    return task


def _task_action(task_id: int, verb, done: str):
    """Claim or release from the inbox: the engine decides, the user sees why not."""
    _task_or_404(task_id)
    try:
        verb(task_id, current_user)
        flash(done, "success")
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
    except NotFound:
        abort(404)
    return redirect(safe_next(request.form.get("back"), url_for("inbox.index")))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    """Take a task so that colleagues see who is handling it."""
    return _task_action(task_id, engine.claim, "已认领该任务。")


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id: int):
    """Give a claimed task back to the organisation's inbox (a lead: a colleague's too)."""
    return _task_action(task_id, engine.release, "已释放该任务，本单位其他人员可以认领。")


@bp.route("/tasks/<int:task_id>/assign", methods=["POST"])
@login_required
def assign(task_id: int):
    """The organisation's lead hands the task to a colleague (engine.assign)."""
    _task_or_404(task_id)
    username = request.form.get("username", "").strip()
    try:
        engine.assign(task_id, current_user, username)
        flash(f"已转交给 {username}。", "success")
    except (Conflict, Invalid) as exc:
        flash(exc.message, "error")
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    return redirect(url_for("inbox.task", task_id=task_id))


def _initial_values(task: HumanTask) -> dict:
    """A correction form starts from what was applied for; a review form starts empty."""
    proc = PROCEDURES.get(task.instance.procedure)
    if proc is None:
        return {}
    applied = {f.name for f in FORMS[proc.start_form].fields}
    data = task.instance.data or {}
    return {
        f.name: data[f.name]
        for f in FORMS[task.form_key].fields
        if f.name in applied and data.get(f.name) is not None
    }


def _render_task(task: HumanTask, values: dict, errors: dict, status: int = 200):
    instance: Instance = task.instance
    spec = FORMS[task.form_key]
    # A step the diagram sends back to after an automatic check failed (a county's placement
    # that broke a rule) says which rule, so the person knows what to change.
    check = (instance.data or {}).get("check") or {}
    failed_check = check if check.get("ok") is False and check.get("message") else None
    hidden = identity.hidden_orgs(instance, current_user)
    held_elsewhere = task.claimed_by_id not in (None, current_user.id)
    four_eyes = desk.needs_other_reviewer(task, current_user)
    return (
        render_template(
            "inbox/task.html",
            task=task,
            held_elsewhere=held_elsewhere,
            four_eyes=four_eyes,
            read_only=held_elsewhere or four_eyes,
            colleagues=desk.colleagues_for(task) if current_user.lead else [],
            requested=_requested_documents(task),
            instance=instance,
            spec=spec,
            values=values,
            errors=errors,
            general_errors=general_errors(errors, spec.fields),
            application=application_rows(instance, hidden),
            evidence=evidence_files(instance),
            events=instance.events,
            hidden_orgs=hidden,
            roster=rosters.summary(instance.id) if instance.procedure == "graduation" else None,
            failed_check=failed_check,
        ),
        status,
    )


def _requested_documents(task: HumanTask) -> str:
    """What the reviewer who returned the case asked to be attached, on the step that
    answers the return (the applicant's correction)."""
    steps = [e for e in task.instance.events if e.user_id and e.decision != "comment"]
    if not steps or steps[-1].decision not in ("return", "reexamine"):
        return ""
    return ((task.instance.data or {}).get("requested_documents") or "").strip()


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    """Show the application, its history and the step's form; POST completes the step."""
    row = _task_or_404(task_id)
    if request.method == "GET":
        if row.state != "open":
            flash("该任务已办理完毕，以下是该业务的最新状态。", "info")
            return redirect(url_for("instances.detail", instance_id=row.instance_id))
        return _render_task(row, _initial_values(row), {})
    data, upload_errors = submitted(FORMS[row.form_key].fields, current_user)
    if upload_errors:
        db.session.rollback()
        return _render_task(row, dict(request.form), upload_errors, 422)
    try:
        instance = engine.complete(task_id, current_user, data)
    except Invalid as exc:
        return _render_task(row, dict(request.form), exc.fields or {}, 422)
    except Forbidden as exc:  # e.g. the four-eyes rule
        flash(exc.message, "error")
        return redirect(url_for("inbox.task", task_id=task_id))
    except Conflict as exc:
        db.session.rollback()
        row = db.session.get(HumanTask, task_id)
        if row.state == "completed" and row.completed_by_id != current_user.id:
            flash(
                f"该任务已被他人（{row.completed_by.label}）办理，您的提交未生效。"
                "请在业务详情中查看最新状态。",
                "error",
            )
        else:
            flash(exc.message, "error")
        return redirect(url_for("inbox.index"))
    except NotFound:
        abort(404)
    flash(f"“{row.name}”已提交。业务当前状态：{_status_text(instance)}。", "success")
    return redirect(url_for("inbox.index"))


def _status_text(instance: Instance) -> str:
    steps = "、".join(f"{t.org.name}{t.name}" for t in engine.open_tasks(instance))
    label = INSTANCE_STATUS_LABELS.get(instance.status, instance.status)
    return f"{label}，下一步：{steps}" if steps else label


@bp.route("/notifications")
@login_required
def notifications():
    """Notifications for the user's organisation, newest first; showing them marks them read."""
    query = notifications_for(current_user).order_by(
        Notification.created_at.desc(), Notification.id.desc()
    )
    page = paginate(query)
    unread_ids = {n.id for n in page.items if n.read_at is None}
    if unread_ids:
        Notification.query.filter(Notification.id.in_(unread_ids)).update(
            {"read_at": utcnow()}, synchronize_session=False
        )
        db.session.commit()
    return render_template("inbox/notifications.html", page=page, unread_ids=unread_ids)
