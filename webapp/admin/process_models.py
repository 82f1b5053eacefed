"""Process models (流程模型): every procedure × variant with its versions; the modeler (BPMN
in bpmn-js, decision tables as plain inputs) whose draft runs on the test bench and, once
it passes, is saved as a new version; the version list with what changed; and moving
running instances to the newest version.

Saving goes through workflows.modeling.save (validation, the test bench again, the audit
row); migrating through workflows.migration (the history row, the audit row). Running
instances are never touched by a save. Admins only (the blueprint's before_request).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func

from webapp.extensions import db
from webapp.models import Instance, ProcessVersion
from webapp.models.vocabulary import PROCEDURES
from workflows import deploy, migration, modeling, testbench, variants
from workflows.errors import EngineError
from workflows.specs import InvalidModel, Problem, content_hash, parse

from ..json_errors import unreadable_body
from . import bp, dmn_tables

OPEN = ("running", "error")
BENCH_KEY = "model_bench"  # session: procedure/variant → content hash of the last passing draft


def _check(procedure: str, variant: str) -> None:
    if procedure not in PROCEDURES or variant not in variants.known():
        abort(404)


def _running_counts() -> dict[tuple[str, str], tuple[int, int]]:
    """(procedure, variant) → (open instances, of which on an older version than the newest)."""
    rows = (
        db.session.query(
            Instance.procedure, Instance.variant, Instance.process_version_id, func.count()
        )
        .filter(Instance.status.in_(OPEN))
        .group_by(Instance.procedure, Instance.variant, Instance.process_version_id)
        .all()
    )
    counts: dict[tuple[str, str], list[int]] = {}
    for procedure, variant, version_id, n in rows:
        newest = deploy.latest(procedure, variant)
        entry = counts.setdefault((procedure, variant), [0, 0])
        entry[0] += n
        if newest is not None and newest.id != version_id:
            entry[1] += n
    return {key: (total, older) for key, (total, older) in counts.items()}


@bp.route("/models")
def model_index():
    """Every procedure × variant that has versions; any pair may be opened in the modeler."""
    return render_template(
        "admin/models.html",
        rows=modeling.catalogue(),
        running=_running_counts(),
        known=variants.known(),
        label=variants.label,
    )


@bp.route("/models/open")
def model_open():
    procedure = request.args.get("procedure", "")
    variant = request.args.get("variant", "")
    _check(procedure, variant)
    return redirect(url_for("admin.model_edit", procedure=procedure, variant=variant))


# -- the modeler ----------------------------------------------------------------------------


@bp.route("/models/<procedure>/<variant>/edit")
def model_edit(procedure: str, variant: str):
    """The newest version of the variant (the default's when it has none) in the modeler."""
    _check(procedure, variant)
    base = deploy.latest(procedure, variant)
    if base is None:
        abort(404)
    data = {
        "procedure": procedure,
        "variant": variant,
        "base_version": base.id,
        "bpmn_xml": base.bpmn_xml,
        "segments": base.segments or {},  # sent back unchanged unless edited
        "names": modeling.names(),
        "urls": {
            "bench": url_for("admin.model_bench", procedure=procedure, variant=variant),
            "save": url_for("admin.model_save", procedure=procedure, variant=variant),
        },
    }
    return render_template(
        "admin/model_edit.html",
        procedure=procedure,
        variant=variant,
        base=base,
        data=data,
        tables=dmn_tables.tables(base.dmn or {}),
        scenarios=testbench.load(procedure, variant),
        label=variants.label,
    )


class _Refused(Exception):
    def __init__(self, status: int, message: str, problems: list[Problem] | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.problems, self.extra = status, message, problems, extra

    def response(self):
        body = {"error": self.message, **self.extra}
        if self.problems is not None:
            body["problems"] = [p.as_dict() for p in self.problems]
        return jsonify(body), self.status


def _draft(
    procedure: str, variant: str
) -> tuple[ProcessVersion, str, dict[str, str], dict[str, str]]:
    """The posted draft: the version it was opened on, its BPMN, its DMN (the version's
    files with the edited cells written in) and its segments (the version's, with any posted
    `segments: {id: BPMN}` laid over them; those the BPMN does not call are left out)."""
    body = request.get_json(silent=True)
    if body is None and request.content_length:
        raise _Refused(400, unreadable_body())
    if not isinstance(body, dict):
        raise _Refused(400, "请求格式不对，请刷新页面后重试。")
    base = db.session.get(ProcessVersion, body.get("base_version") or 0)
    if (
        base is None
        or base.procedure != procedure
        or base.variant not in (variant, deploy.DEFAULT_VARIANT)
    ):
        raise _Refused(400, "草稿所依据的版本不存在，请刷新页面。")
    bpmn_xml = body.get("bpmn_xml")
    if not isinstance(bpmn_xml, str) or not bpmn_xml.strip():
        raise _Refused(422, "草稿缺少 BPMN 内容。", [Problem("definitions", "BPMN 内容为空")])
    try:
        dmn = dmn_tables.apply(base.dmn or {}, body.get("dmn_cells") or {})
    except dmn_tables.DraftError as exc:
        raise _Refused(422, str(exc), []) from exc
    posted = body.get("segments") or {}
    if not isinstance(posted, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in posted.items()
    ):
        raise _Refused(422, "子流程格式不对：应为 {子流程 id: BPMN}。", [])
    segments = deploy.segments_for(
        procedure, variant, bpmn_xml, {**(base.segments or {}), **posted}
    )
    return base, bpmn_xml, dmn, segments


def _key(procedure: str, variant: str) -> str:
    return f"{procedure}/{variant}"


@bp.post("/models/<procedure>/<variant>/bench")
def model_bench(procedure: str, variant: str):
    """Run the draft against the variant's scenarios in the sandbox; remember a pass."""
    _check(procedure, variant)
    try:
        _, bpmn_xml, dmn, segments = _draft(procedure, variant)
    except _Refused as refused:
        return refused.response()
    report = testbench.run(procedure, variant, bpmn_xml, dmn, segments=segments)
    passed = dict(session.get(BENCH_KEY) or {})
    if report.passed:
        passed[_key(procedure, variant)] = content_hash(bpmn_xml, dmn, segments)
    else:
        passed.pop(_key(procedure, variant), None)
    session[BENCH_KEY] = passed
    return jsonify({"report": report.as_dict()})


@bp.post("/models/<procedure>/<variant>/save")
def model_save(procedure: str, variant: str):
    """Validate, require a passing bench run of this very draft, then deploy through
    modeling.save (which runs the bench once more). Running instances keep their version."""
    _check(procedure, variant)
    try:
        version = _save(procedure, variant)
    except _Refused as refused:
        db.session.rollback()
        return refused.response()
    db.session.commit()
    session.get(BENCH_KEY, {}).pop(_key(procedure, variant), None)
    session.modified = True
    flash(
        f"已部署 {procedure_label(procedure)} · {variants.label(variant)} 第 {version.version} 版。"
        "已在办理的业务仍按原版本办理，可在“迁移”页面迁到新版本。",
        "success",
    )
    return jsonify(
        {
            "version": version.version,
            "url": url_for("admin.model_versions", procedure=procedure, variant=variant),
        }
    )


def _save(procedure: str, variant: str) -> ProcessVersion:
    base, bpmn_xml, dmn, segments = _draft(procedure, variant)
    current = deploy.latest(procedure, variant)
    if current is None or current.id != base.id:
        raise _Refused(
            409,
            f"打开建模器之后，{variants.label(current.variant)} 已有第 {current.version} 版。"
            "请重新打开建模器，在最新版本上修改。",
        )
    try:
        parse(procedure, bpmn_xml, dmn, segments)
        deploy.check_decisions(procedure, bpmn_xml, dmn, segments)
    except InvalidModel as exc:
        raise _Refused(422, "流程模型有误，未部署。", exc.problems) from exc
    digest = content_hash(bpmn_xml, dmn, segments)
    if base.variant == variant and base.content_hash == digest:
        raise _Refused(422, f"草稿与第 {base.version} 版相同，无需保存。")
    if (session.get(BENCH_KEY) or {}).get(_key(procedure, variant)) != digest:
        raise _Refused(409, "请先对这份草稿运行测试场景，全部通过后才能保存。")
    try:
        version, _ = modeling.save(procedure, variant, bpmn_xml, dmn, current_user, segments)
    except InvalidModel as exc:
        raise _Refused(422, "流程模型有误，未部署。", exc.problems) from exc
    except modeling.BenchFailed as exc:
        raise _Refused(
            422, "测试场景未全部通过，未部署。", exc.problems(), report=exc.report.as_dict()
        ) from exc
    return version


def procedure_label(procedure: str) -> str:
    proc = PROCEDURES.get(procedure)
    return f"{proc.name}（{procedure}）" if proc is not None else procedure


# -- versions -------------------------------------------------------------------------------


@bp.route("/models/<procedure>/<variant>/versions")
def model_versions(procedure: str, variant: str):
    """Who deployed what and when, with what changed against the version before."""
    _check(procedure, variant)
    versions = (
        ProcessVersion.query.filter_by(procedure=procedure, variant=variant)
        .order_by(ProcessVersion.version.desc())
        .all()
    )
    changes = {
        newer.id: modeling.changes(older, newer)
        for newer, older in zip(versions, versions[1:], strict=False)
    }
    return render_template(
        "admin/model_versions.html",
        procedure=procedure,
        variant=variant,
        versions=versions,
        changes=changes,
        fallback=deploy.latest(procedure, variant),
        label=variants.label,
        procedure_label=procedure_label,
    )


# -- migration ------------------------------------------------------------------------------


def _open_instances(procedure: str, variant: str) -> list[Instance]:
    return (
        Instance.query.filter(
            Instance.procedure == procedure,
            Instance.variant == variant,
            Instance.status.in_(OPEN),
        )
        .order_by(Instance.id)
        .all()
    )


@bp.route("/models/<procedure>/<variant>/migrate")
def model_migrate(procedure: str, variant: str):
    """The open instances with their version and whether each may move to the newest."""
    _check(procedure, variant)
    instances = _open_instances(procedure, variant)
    return render_template(
        "admin/model_migrate.html",
        procedure=procedure,
        variant=variant,
        target=deploy.latest(procedure, variant),
        rows=[(instance, migration.plan(instance)) for instance in instances],
        label=variants.label,
        procedure_label=procedure_label,
    )


@bp.post("/models/<procedure>/<variant>/migrate/<int:instance_id>")
def migrate_one(procedure: str, variant: str, instance_id: int):
    _check(procedure, variant)
    instance = db.session.get(Instance, instance_id)
    if instance is None or (instance.procedure, instance.variant) != (procedure, variant):
        abort(404)
    before = instance.process_version.version
    try:
        migration.migrate(instance_id, current_user)
    except EngineError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(
            f"业务 {instance_id} 已从第 {before} 版迁移到第 {instance.process_version.version} 版。",
            "success",
        )
    return redirect(url_for("admin.model_migrate", procedure=procedure, variant=variant))


@bp.post("/models/<procedure>/<variant>/migrate")
def migrate_bulk(procedure: str, variant: str):
    _check(procedure, variant)
    plans = migration.migrate_all(procedure, variant, current_user)
    moved = [p for p in plans if p.allowed]
    current = [p for p in plans if not p.allowed and p.from_version == p.to_version]
    refused = [p for p in plans if not p.allowed and p.from_version != p.to_version]
    if not plans:
        flash("没有办理中的业务。", "info")
    if current:
        flash(f"{len(current)} 个业务已在最新版本上。", "info")
    if moved:
        ids = "、".join(str(p.instance_id) for p in moved)
        flash(f"已迁移 {len(moved)} 个业务到最新版本：{ids}。", "success")
    if refused:
        reasons = "；".join(f"业务 {p.instance_id}：{p.reason}" for p in refused)
        flash(f"未迁移 {len(refused)} 个：{reasons}", "error")
    return redirect(url_for("admin.model_migrate", procedure=procedure, variant=variant))
