"""Cohort procedures in the browser: a school submits a cohort; everyone involved sees the
roster (paginated, counted, filtered); the county changes it on its step; anyone who may
see the instance downloads it as XLSX."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from forms import FORMS
from webapp.models.vocabulary import PROCEDURES
from workflows import engine, jurisdiction, rosters, runtime
from workflows.errors import Conflict, Forbidden, Invalid, NotFound

from .. import exports, sheets
from ..models import CLASSIFICATIONS, HumanTask, Instance, RosterEntry
from ..views_common import general_errors, grade_label, paginate, start_submitted
from . import bp

LABELS = {**rosters.CLASSIFICATION_LABELS, "struck": "已剔除"}
ACTION_LABELS = {"strike": "剔除", "restore": "恢复", "reclassify": "更改结论"}


def _cohort_procedure(procedure: str):
    proc = PROCEDURES.get(procedure)
    if proc is None or not proc.cohort:
        abort(404)
    if current_user.role != proc.starter_role:
        abort(403)
    return proc


@bp.route("/cohorts/<procedure>/new", methods=["GET", "POST"])
@login_required
def new(procedure: str):
    """The school submits one of its cohorts (its own school code is filled in)."""
    proc = _cohort_procedure(procedure)
    spec = FORMS[proc.start_form]
    fields = [f for f in spec.fields if f.name != "school_code"]

    def render(values: dict, errors: dict, status: int = 200):
        page = render_template(
            "rosters/new.html",
            proc=proc,
            spec=spec,
            fields=fields,
            values=values,
            errors=errors,
            general_errors=general_errors(errors, fields),
        )
        return page, status

    if request.method == "GET":
        return render({}, {})
    instance = start_submitted(proc.key, fields, render, {"school_code": current_user.org.code})
    if not isinstance(instance, Instance):
        return instance
    if instance.status == "rejected":
        flash(f"{proc.name}未能提交：{instance.reason_message}（规则 {instance.reason}）", "error")
    else:
        flash(f"{proc.name}已提交：{_where(instance)}", "success")
    return redirect(url_for("instances.detail", instance_id=instance.id))


def _where(instance: Instance) -> str:
    """Where a submitted cohort went: its size and the next step (or that it is queued)."""
    check = instance.data.get("check") or {}
    size = f"共 {check['total']} 名学生，已逐人判定。" if "total" in check else ""
    problems = check.get("problems") or []
    if problems:
        size = f"名单有 {len(problems)} 处问题，请按问题清单修改后重新提交。"
    steps = "、".join(f"{t.org.name}“{t.name}”" for t in engine.open_tasks(instance))
    return size + (f"已送{steps}。" if steps else "系统正在自动检查，请稍后在业务详情中查看。")


def _instance_or_404(instance_id: int) -> Instance:
    instance = jurisdiction.instance_or_none(current_user, instance_id)
    if instance is None or not PROCEDURES[instance.procedure].cohort:
        abort(404)
    return instance


def editable_task(instance: Instance) -> HumanTask | None:
    """The user's open step of this instance that may change the roster, if any."""
    for task in engine.open_tasks(instance):
        if (task.org_id, task.role) != (current_user.org_id, current_user.role):
            continue
        if runtime.step_properties(instance, task.step).get("rosterChanges") == "true":
            return task
    return None


@bp.route("/instances/<int:instance_id>/roster")
@login_required
def roster(instance_id: int):
    instance = _instance_or_404(instance_id)
    show = request.args.get("show", "")
    class_name = request.args.get("class", "")
    query = rosters.entries(instance.id, show, class_name)
    page = paginate(query.options(joinedload(RosterEntry.student)))
    return render_template(
        "rosters/roster.html",
        instance=instance,
        page=page,
        summary=rosters.summary(instance.id),
        show=show,
        class_name=class_name,
        labels=LABELS,
        classifications=CLASSIFICATIONS,
        action_labels=ACTION_LABELS,
        task=editable_task(instance),
        grade_label=grade_label,
    )


@bp.route("/instances/<int:instance_id>/roster/<int:entry_id>", methods=["POST"])
@login_required
def change(instance_id: int, entry_id: int):
    """One reviewer change (strike, restore, reclassify) with its reason."""
    instance = _instance_or_404(instance_id)
    task = editable_task(instance)
    back = url_for("rosters.roster", instance_id=instance.id, **request.args)
    if task is None:
        flash("名册只能在县级审核步骤中由审核单位修改。", "error")
        return redirect(back)
    action = request.form.get("action", "")
    try:
        entry = rosters.change_entry(
            task.id,
            current_user,
            entry_id,
            action,
            request.form.get("comment", ""),
            request.form.get("classification") or None,
        )
    except Invalid as exc:
        flash("名册未修改：" + "；".join(m for msgs in exc.fields.values() for m in msgs), "error")
        return redirect(back)
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
        return redirect(back)
    except NotFound:
        abort(404)
    flash(
        f"已{ACTION_LABELS[action]}：{entry.student.name}（{LABELS[entry.classification]}"
        f"{'，已剔除' if entry.struck else ''}）。",
        "success",
    )
    return redirect(back)


@bp.route("/instances/<int:instance_id>/roster/bulk", methods=["POST"])
@login_required
def bulk_change(instance_id: int):
    """Several entries struck or reclassified with one reason, in one transaction."""
    instance = _instance_or_404(instance_id)
    task = editable_task(instance)
    back = url_for("rosters.roster", instance_id=instance.id, **request.args)
    if task is None:
        flash("名册只能在县级审核步骤中由审核单位修改。", "error")
        return redirect(back)
    action = request.form.get("action", "")
    classification = request.form.get("classification") or None
    try:
        changed = rosters.change_entries(
            task.id,
            current_user,
            request.form.getlist("entry_ids", type=int),
            action,
            request.form.get("comment", ""),
            classification,
        )
    except Invalid as exc:
        flash("名册未修改：" + "；".join(m for msgs in exc.fields.values() for m in msgs), "error")
        return redirect(back)
    except (Conflict, Forbidden, NotFound) as exc:
        flash(exc.message, "error")
        return redirect(back)
    what = "剔除" if action == "strike" else f"改为{LABELS[classification]}"
    flash(f"已将 {len(changed)} 名学生{what}（理由相同，逐人记录）。", "success")
    return redirect(back)


@bp.route("/instances/<int:instance_id>/roster.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/instances/<int:instance_id>/roster.csv", defaults={"fmt": "csv"})
@login_required
def download(instance_id: int, fmt: str):
    """The roster as a spreadsheet, filtered as its page is (?show=, ?class=); written row
    by row, since a cohort may be thousands."""
    instance = _instance_or_404(instance_id)
    show, class_name = request.args.get("show", ""), request.args.get("class", "")
    query = rosters.entries(instance.id, show, class_name)
    title = f"{PROCEDURES[instance.procedure].name}名册-{instance.id}"
    sheet = sheets.roster(title, query, rosters.CLASSIFICATION_LABELS)
    filters = {"instance": instance.id, "show": show, "class": class_name}
    return exports.download(fmt, sheet, current_user, filters)
