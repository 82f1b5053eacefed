"""API routes: thin views over the engine façade and the jurisdiction jurisdiction.

Every record is fetched through `webapp.scope`; anything out of reach is a 404 as if it
did not exist. Every change goes through the engine (which audits it) or audits here.
"""

from __future__ import annotations

import io

from flask import abort, current_app, request, send_file
from marshmallow import Schema
from sqlalchemy import inspect
from werkzeug.exceptions import HTTPException

from webapp import exports, finding, lists, sheets
from webapp.auth.accounts import SignInRefused, sign_in
from webapp.auth.throttle import throttled
from webapp.extensions import db
from webapp.models import Instance, Student
from webapp.models.vocabulary import PROCEDURES
from webapp.paging import page_of
from webapp.uploads import MAX_BYTES, UploadRefused, readable_file, store_upload
from workflows import deploy, engine, identity, jurisdiction, modeling, tracking, variants
from workflows.specs import InvalidModel

from ..json_errors import ApiError, error_response, unreadable_body
from . import bp, schemas
from .auth import TOKEN_HOURS, authenticate, current_user, issue_token

bp.before_request(authenticate)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


# -- helpers --------------------------------------------------------------------------------


def _body(schema: type[Schema]) -> dict:
    """The JSON body loaded through `schema`; 422 with field errors when it does not fit."""
    payload = request.get_json(silent=True)
    if payload is None and request.content_length:
        raise ApiError(400, unreadable_body())
    if payload is not None and not isinstance(payload, dict):
        raise ApiError(422, "请求体必须是 JSON 对象。")
    return schema().load(payload or {})


def _page(query, schema: Schema, args: dict, with_rows=None) -> dict:
    """One page of `query` as `{items, total}`; per_page is capped at MAX_PER_PAGE and the
    count at COUNT_BOUND (past it, `total_capped: true` is added). `with_rows(items)` reads
    what the page's rows need before they are shown."""
    page = page_of(query, args["page"], min(args["per_page"], schemas.MAX_PER_PAGE))
    if with_rows is not None:
        with_rows(page.items)
    out = {"items": schema.dump(page.items), "total": page.total}
    if page.capped:
        out["total_capped"] = True
    return out


def _instance_out(instance: Instance) -> dict:
    """The instance as stored now, its relations read in a few statements."""
    instance_id = inspect(instance).identity[0]  # without reloading the expired row
    fresh = db.session.scalars(
        db.select(Instance)
        .where(Instance.id == instance_id)
        .options(*lists.INSTANCE_DETAIL)
        .execution_options(populate_existing=True)
    ).one()
    return schemas.InstanceOut().dump(fresh)


def _found(obj):
    if obj is None:
        raise ApiError(404)
    return obj


# -- auth -----------------------------------------------------------------------------------


@bp.post("/auth/token")
@throttled
def token():
    """Sign in with username and password (throttled like the login page; audited)."""
    creds = _body(schemas.TokenIn)
    try:
        user = sign_in(creds["username"], creds["password"], "api")
    except SignInRefused as refused:
        db.session.commit()  # the audit entry of the refusal
        raise ApiError(401, str(refused)) from refused
    db.session.commit()
    return schemas.TokenOut().dump(
        {"token": issue_token(user), "expires_in": TOKEN_HOURS * 3600, "user": user}
    )


# -- files ----------------------------------------------------------------------------------


@bp.post("/files")
def upload_file():
    """Store one PDF/JPEG/PNG of at most 10 MB; anything else is refused and nothing kept."""
    user = current_user()
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        raise ApiError(
            422, "请选择要上传的文件。", {"file": ["请选择要上传的文件（字段名 file）。"]}
        )
    try:
        upload = store_upload(user, sent.filename, sent.read(MAX_BYTES + 1))
    except UploadRefused as exc:
        raise ApiError(422, str(exc), {"file": [str(exc)]}) from exc
    db.session.commit()
    return schemas.FileOut().dump(upload), 201


@bp.get("/files/<int:file_id>")
def download_file(file_id: int):
    upload = _found(readable_file(current_user(), file_id))
    return send_file(
        io.BytesIO(upload.content),
        mimetype=upload.content_type,
        as_attachment=True,
        download_name=upload.name,
    )


# -- procedures and students ----------------------------------------------------------------


@bp.get("/procedures")
def procedures():
    """The procedures the caller's role starts, each on the newest version its variant runs."""
    user = current_user()
    variant = variants.variant_for(user.org)  # what the caller's own starts run
    items = []
    for proc in PROCEDURES.values():
        if proc.starter_role != user.role:
            continue
        version = deploy.latest(proc.key, variant)
        items.append({"key": proc.key, "name": proc.name, "version": version and version.version})
    return schemas.ProcedureList().dump({"items": items, "total": len(items)})


@bp.get("/students")
def students():
    """Records in reach; ?format=xlsx|csv the whole filtered list as a file, national in
    the national template's layout."""
    fmt = request.args.get("format")
    if fmt is not None:
        fmt, layout = sheets.student_format(fmt)
    args = schemas.StudentQuery().load(request.args)
    query = finding.students(current_user(), args)
    if fmt is not None:
        sheet = sheets.students(query, layout)
        return exports.download(fmt, sheet, current_user(), finding.export_filters(args))
    query = query.options(*lists.STUDENT_ROWS).order_by(Student.id)
    return _page(query, schemas.StudentOut(many=True), args)


@bp.get("/students/<int:student_id>")
def student(student_id: int):
    return schemas.StudentOut().dump(
        _found(jurisdiction.student_or_none(current_user(), student_id))
    )


# -- instances ------------------------------------------------------------------------------


@bp.post("/instances")
def start_instance():
    """Start a procedure. A one-sided procedure's student must be within the caller's reach."""
    user = current_user()
    body = _body(schemas.InstanceIn)
    proc = PROCEDURES[body["procedure"]]
    if body["student_id"] is not None and not proc.two_sided:
        _found(jurisdiction.student_or_none(user, body["student_id"]))
    if body["dry_run"]:  # check before creating: the first automatic checks, nothing written
        found = engine.dry_run(proc.key, user, body["data"], student_id=body["student_id"])
        return {"ok": not found, "refusals": [r.out() for r in found]}
    instance = engine.start(proc.key, user, body["data"], student_id=body["student_id"])
    return _instance_out(instance), 201


@bp.get("/instances")
def instances():
    fmt = request.args.get("format")
    args = schemas.InstanceQuery().load(request.args)
    query = finding.instances(current_user(), args)
    if fmt is not None:
        sheet = sheets.instances(query, current_user())
        return exports.download(fmt, sheet, current_user(), finding.export_filters(args))
    query = query.options(*lists.INSTANCE_ROWS).order_by(Instance.id.desc())
    return _page(query, schemas.InstanceSummaryOut(many=True), args, lists.sending_schools)


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int):
    return _instance_out(_found(jurisdiction.instance_or_none(current_user(), instance_id)))


@bp.post("/instances/<int:instance_id>/refuse")
def refuse_instance(instance_id: int):
    """The pupil's own school refuses a start another school made for it by ID number."""
    _found(jurisdiction.instance_or_none(current_user(), instance_id))
    body = _body(schemas.RefuseIn)
    return _instance_out(engine.refuse(instance_id, current_user(), body["comment"]))


@bp.get("/instances/<int:instance_id>/diagram")
def instance_diagram(instance_id: int):
    """The instance's own BPMN version with the steps done, waiting, rejected at and failed."""
    inst = _found(jurisdiction.instance_or_none(current_user(), instance_id))
    hidden = identity.hidden_orgs(inst, current_user())
    return schemas.DiagramOut().dump(tracking.diagram(inst, hidden))


# -- process models (admins) ----------------------------------------------------------------


def _admin_only():
    if current_user().role != "admin":
        raise ApiError(403, "只有平台管理员可以查看和部署流程模型。")


@bp.get("/models")
def models():
    """Every procedure × variant with its versions, newest first."""
    _admin_only()
    return {
        "items": [
            {
                "procedure": row["procedure"],
                "variant": row["variant"],
                "versions": schemas.VersionOut(many=True).dump(row["versions"]),
            }
            for row in modeling.catalogue()
        ]
    }


@bp.post("/models/<procedure>/versions")
def deploy_version(procedure: str):
    """Validate a model, run its scenarios in the sandbox, then deploy it as a new version.
    Running instances stay on their version."""
    _admin_only()
    if procedure not in PROCEDURES:
        raise ApiError(404, f"未知的业务类型：{procedure}")
    body = _body(schemas.ModelIn)
    try:
        version, _ = modeling.save(
            procedure,
            body["variant"],
            body["bpmn_xml"],
            body["dmn"],
            current_user(),
            body["segments"],
        )
    except InvalidModel as exc:
        return _refused("流程模型有误，未部署。", exc.problems)
    except modeling.BenchFailed as exc:
        return _refused("测试场景未全部通过，未部署。", exc.problems())
    db.session.commit()
    return {"procedure": procedure, "variant": version.variant, "version": version.version}, 201


def _refused(message: str, problems) -> tuple:
    db.session.rollback()
    return error_response(422, "invalid", message, [p.as_dict() for p in problems]), 422


# -- tasks ----------------------------------------------------------------------------------


@bp.get("/tasks")
def tasks():
    """The caller's inbox: open tasks of its organisation and role, filtered, most urgent
    first unless ?sort= says otherwise."""
    fmt = request.args.get("format")
    args = schemas.TaskQuery().load(request.args)
    query = finding.tasks(current_user(), args)
    if fmt is not None:
        sheet = sheets.tasks(query)
        return exports.download(fmt, sheet, current_user(), finding.export_filters(args))
    return _page(query.options(*lists.TASK_ROWS), schemas.TaskOut(many=True), args)


@bp.get("/tasks/<int:task_id>")
def task(task_id: int):
    return schemas.TaskDetailOut().dump(_found(jurisdiction.task_or_none(current_user(), task_id)))


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int):
    body = _body(schemas.CompleteIn)
    return _instance_out(engine.complete(task_id, current_user(), body["data"]))


@bp.post("/tasks/<int:task_id>/claim")
def claim_task(task_id: int):
    return schemas.TaskOut().dump(engine.claim(task_id, current_user()))


@bp.post("/tasks/<int:task_id>/release")
def release_task(task_id: int):
    return schemas.TaskOut().dump(engine.release(task_id, current_user()))


# -- everything else under /api/v1 ----------------------------------------------------------


@bp.route("/<path:path>", methods=ALL_METHODS)
def no_such_route(path: str):
    """Unknown paths and wrong methods answer in JSON too (routing errors skip bp handlers)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in ALL_METHODS:
        try:
            rule, _ = adapter.match(request.path, method=method, return_rule=True)
        except HTTPException:  # this path does not take this method
            continue
        if rule.endpoint != request.endpoint:
            allowed.add(method)
    if allowed:
        raise ApiError(405, headers={"Allow": ", ".join(sorted(allowed))})
    abort(404)
