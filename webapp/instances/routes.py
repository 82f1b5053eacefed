"""Procedures in progress and done: the list, one instance's page, starting procedures."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms import FORMS, Field
from handlers.rules import title_of
from webapp.models.vocabulary import PROCEDURES, Procedure
from workflows import (
    decisions,
    deploy,
    desk,
    engine,
    identity,
    jurisdiction,
    starters,
    tracking,
    variants,
)
from workflows.errors import Conflict, Forbidden, Invalid

from .. import exports, finding, lists, saved_filters, sheets
from ..holders import visible_earlier, visible_holders
from ..models import FileUpload, Instance
from ..views_common import (
    application_rows,
    evidence_files,
    general_errors,
    paginate,
    start_submitted,
)
from . import bp


@dataclass(frozen=True)
class OtherSideStart:
    """A two-sided procedure the taking school starts: its own code is filled in, not typed."""

    own_code_field: str
    template: str


TO_SCHOOL = Field(
    "to_school_code",
    "转入学校代码",
    required=True,
    help="本地区转学由转出学校发起，写明转入学校；接收由转入学校发起转学的地区的学生时，填写本校代码。",
)
# Where the sending school's region lets it name something other than a school.
TO_COUNTY = Field(
    "to_county_code",
    "或：转入县（区）代码",
    help="义务教育阶段可只写转入地县（区），由该县（区）教育局按相对就近的原则安置学校。",
)
DESTINATION = Field(
    "destination",
    "或：转至市外（转出至的省、市）",
    help="转入学校不在本平台时填写，例如“辽宁省大连市”；经区教育局审批后学籍转至市外。",
)
OTHER_SIDE_STARTS = {
    "transfer": OtherSideStart("to_school_code", "instances/new_transfer.html"),
    "borrow": OtherSideStart("host_school_code", "instances/new_borrow.html"),
}


def _instance_or_404(instance_id: int) -> Instance:
    instance = jurisdiction.instance_or_none(current_user, instance_id)
    if instance is None:
        abort(404)
    return instance


@bp.route("/instances")
@login_required
def index():
    """Every procedure the user may see, newest first, filtered (finding.InstanceFilters);
    ?format=xlsx|csv gives every filtered one as a file."""
    args = finding.load(finding.InstanceFilters, request.args)
    query = finding.instances(current_user, args)
    fmt = request.args.get("format")
    if fmt is not None:
        sheet = sheets.instances(query, current_user)
        return exports.download(fmt, sheet, current_user, finding.export_filters(args))
    query = query.options(*lists.INSTANCE_PAGE_ROWS).order_by(Instance.id.desc())
    page = paginate(query)
    lists.sending_schools(page.items)
    return render_template(
        "instances/index.html",
        page=page,
        filters=args,
        saved=saved_filters.for_page(current_user, "instances"),
    )


@bp.route("/instances/<int:instance_id>")
@login_required
def detail(instance_id: int):
    """Where a procedure stands: status, reason, current steps, the full history."""
    instance = _instance_or_404(instance_id)
    student = instance.student
    hidden = identity.hidden_orgs(instance, current_user)
    return render_template(
        "instances/detail.html",
        instance=instance,
        student_visible=student is not None
        and jurisdiction.student_or_none(current_user, student.id) is not None,
        application=application_rows(instance, hidden),
        evidence=evidence_files(instance),
        open_tasks=engine.open_tasks(instance),
        events=instance.events,
        holders=visible_holders(current_user, instance),
        earlier=visible_earlier(current_user, instance),
        hidden_orgs=hidden,
        may_refuse=_may_refuse(instance),
        may_withdraw=desk.withdraw_refusal(instance, current_user) is None,
    )


def _may_refuse(instance: Instance) -> bool:
    """The refusal form shows to the pupil's own school while it may still refuse."""
    return (
        instance.status == "running"
        and current_user.role == "school"
        and identity.started_by_identity(instance)
        and instance.data.get("from_school_id") == current_user.org_id
        and not any(
            e.org_id == current_user.org_id and e.decision == "approve" for e in instance.events
        )
    )


@bp.route("/instances/<int:instance_id>/refuse", methods=["POST"])
@login_required
def refuse(instance_id: int):
    """The pupil's school refuses another school's start by ID number (engine.refuse)."""
    _instance_or_404(instance_id)
    try:
        engine.refuse(instance_id, current_user, request.form.get("comment", ""))
    except (Invalid, Conflict) as exc:
        flash(exc.message, "error")
    except Forbidden:
        abort(403)
    else:
        flash("已拒绝该申请，业务已终止，学生不再被占用。", "success")
    return redirect(url_for("instances.detail", instance_id=instance_id))


@bp.route("/instances/<int:instance_id>/withdraw", methods=["POST"])
@login_required
def withdraw(instance_id: int):
    """The applying organisation withdraws (engine.withdraw), once it has ticked that it
    knows this cannot be undone."""
    _instance_or_404(instance_id)
    if request.form.get("confirm") != "yes":
        flash("撤销后不能恢复：请勾选确认后再提交。", "error")
    else:
        try:
            engine.withdraw(instance_id, current_user, request.form.get("comment", ""))
        except (Invalid, Conflict) as exc:
            flash(exc.message, "error")
        else:
            flash("已撤销该申请：业务已终止，待办步骤已取消，学生不再被占用。", "success")
    return redirect(url_for("instances.detail", instance_id=instance_id))


@bp.route("/instances/<int:instance_id>/comments", methods=["POST"])
@login_required
def comment(instance_id: int):
    """A comment in the history by anyone who sees the instance (engine.comment)."""
    _instance_or_404(instance_id)
    try:
        engine.add_comment(instance_id, current_user, request.form.get("text", ""))
    except Invalid as exc:
        flash(exc.message, "error")
    else:
        flash("留言已添加到办理历史。", "success")
    return redirect(url_for("instances.detail", instance_id=instance_id) + "#comment")


@bp.route("/instances/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int):
    """The diagram panel's data, as `GET /api/v1/instances/<id>/diagram` answers it."""
    instance = _instance_or_404(instance_id)
    return jsonify(tracking.diagram(instance, identity.hidden_orgs(instance, current_user)))


@bp.route("/instances/<int:instance_id>/files/<int:file_id>")
@login_required
def evidence(instance_id: int, file_id: int):
    """An evidence file cited by an instance the user may see."""
    instance = _instance_or_404(instance_id)
    upload = next((f for f in evidence_files(instance) if f.id == file_id), None)
    if upload is None:
        abort(404)
    return _file_response(upload)


def _file_response(upload: FileUpload) -> Response:
    response = Response(upload.content, mimetype=upload.content_type)
    response.headers["Content-Disposition"] = (
        f"inline; filename*=UTF-8''{quote(upload.name, safe='')}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/transfers/new", methods=["GET", "POST"])
@login_required
def new_transfer():
    """The receiving school enters a transfer application for a student of another school."""
    return _start_other_side(PROCEDURES["transfer"])


@bp.route("/procedures/<procedure>/new", methods=["GET", "POST"])
@login_required
def new_other_side(procedure: str):
    """A two-sided procedure entered by the school that takes the student in (借读…)."""
    if procedure not in OTHER_SIDE_STARTS:
        abort(404)
    return _start_other_side(PROCEDURES[procedure])


def _start_other_side(proc: Procedure):
    """The student is named by ID number and name; the caller's school is the taking side."""
    if current_user.role != proc.starter_role:
        abort(403)
    start = OTHER_SIDE_STARTS[proc.key]
    spec = FORMS[proc.start_form]
    # Where the caller's variant lets the sending school start a transfer (yuhong,
    # shandong), where the student goes is typed in; otherwise the caller's own school is
    # the taking side.
    how = starters.transfer_start(current_user.org) if proc.key == "transfer" else None
    sending = how is not None and how.sending
    own_field = None if sending else start.own_code_field
    fields = [f for f in spec.fields if f.name != own_field]
    if sending:
        alternatives = [
            f
            for f, offered in ((TO_COUNTY, how.places), (DESTINATION, how.leaves_region))
            if offered
        ]
        to_school = replace(TO_SCHOOL, required=not alternatives)
        fields = [to_school, *alternatives, *fields]

    def render(values: dict, errors: dict, status: int = 200):
        page = render_template(
            start.template,
            proc=proc,
            fields=fields,
            values=values,
            errors=errors,
            general_errors=general_errors(errors, fields),
            title=spec.title,
            sending=sending,
            rules=_region_rules(proc.key, current_user.org),
        )
        return page, status

    if request.method == "GET":
        return render({}, {})
    fixed = {own_field: current_user.org.code} if own_field else None
    instance = start_submitted(proc.key, fields, render, fixed)
    if not isinstance(instance, Instance):
        return instance
    _flash_started(proc.name, instance)
    return redirect(url_for("instances.detail", instance_id=instance.id))


@bp.route("/students/<int:student_id>/start/<procedure>", methods=["GET", "POST"])
@login_required
def start_for_student(student_id: int, procedure: str):
    """The student's own school enters a one-sided procedure (withdrawal, cancellation…)."""
    proc = PROCEDURES.get(procedure)
    student = jurisdiction.student_or_none(current_user, student_id)
    if proc is None or proc.two_sided or student is None:
        abort(404)
    if current_user.role != proc.starter_role:
        abort(403)
    if not starters.may_start_for(current_user, proc.key, student):
        abort(404)
    spec = FORMS[proc.start_form]

    def render(values: dict, errors: dict, status: int = 200):
        page = render_template(
            "instances/start.html",
            proc=proc,
            spec=spec,
            student=student,
            values=values,
            errors=errors,
            general_errors=general_errors(errors, spec.fields),
            rules=_region_rules(proc.key, student.school),
        )
        return page, status

    if request.method == "GET":
        return render({}, {})
    instance = start_submitted(proc.key, spec.fields, render, student_id=student.id)
    if not isinstance(instance, Instance):
        return instance
    _flash_started(proc.name, instance)
    return redirect(url_for("instances.detail", instance_id=instance.id))


def _region_rules(procedure: str, org) -> dict | None:
    """What the decision tables of the version a new instance would run say (the variant
    of `org`'s region), so the person entering it sees the region's numbers, not ours."""
    version = deploy.latest(procedure, variants.variant_for(org))
    if version is None:
        return None
    return {
        "variant": variants.label(version.variant),
        "version": version.version,
        "tables": decisions.rule_notes(version.dmn or {}),
    }


def _flash_started(name: str, instance: Instance) -> None:
    if instance.status == "rejected":
        flash(
            f"{name}申请已提交，但自动检查未通过（{title_of(instance.reason)}）："
            f"{instance.reason_message.rstrip('。')}，业务已终止。",
            "error",
        )
    else:
        steps = "、".join(f"{t.org.name}“{t.name}”" for t in engine.open_tasks(instance))
        flash(f"{name}申请已提交，自动检查通过，已送{steps}。", "success")
