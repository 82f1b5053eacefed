"""Checks a step's input passes before anything runs: the evidence is the caller's own
organisation's uploads, and a four-eyes step is not done by who entered the application.
And what a step's evidence adds to: the files the instance was sent before stay with it."""

from __future__ import annotations

from webapp.models import MAX_ID, FileUpload, HumanTask, Instance, User
from webapp.models.vocabulary import PROCEDURES

from . import runtime
from .errors import Forbidden, Invalid


def check_evidence(clean: dict, user) -> None:
    """Evidence ids must be uploads by users of the caller's own organisation."""
    ids = clean.get("evidence")
    if not ids:
        return
    storable = [i for i in ids if 0 < i <= MAX_ID]  # a larger id is no upload (and no query)
    found = {
        f.id
        for f in FileUpload.query.join(User, FileUpload.uploaded_by_id == User.id)
        .filter(FileUpload.id.in_(storable), User.org_id == user.org_id)
        .all()
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid(
            "证明材料有误。",
            {"evidence": [f"附件 {', '.join(map(str, missing))} 不存在或不是本单位上传的。"]},
        )


def _earlier(instance: Instance) -> list[int]:
    return [i for i in (instance.data or {}).get("evidence") or [] if isinstance(i, int)]


def carried_evidence(instance: Instance, form_key: str, data: dict) -> dict:
    """A correction re-submits the application's own form: one that sends no files keeps
    those attached before, so the form's required 证明材料 are already there."""
    proc = PROCEDURES.get(instance.procedure)
    earlier = _earlier(instance)
    if proc is not None and form_key == proc.start_form and earlier and not data.get("evidence"):
        return {**data, "evidence": earlier}
    return data


def kept_evidence(instance: Instance, clean: dict) -> dict:
    """A step's files add to those the instance was sent before (a correction's 补充材料
    does not hide the application's own)."""
    if not clean.get("evidence"):
        return clean
    return {**clean, "evidence": list(dict.fromkeys([*_earlier(instance), *clean["evidence"]]))}


def four_eyes_bars(row: HumanTask, instance: Instance, user) -> bool:
    """A step marked notBy=initiator may not be done by who entered the application."""
    if instance.initiator_id is None or instance.initiator_id != user.id:
        return False
    return runtime.step_properties(instance, row.step).get("notBy") == "initiator"


def check_four_eyes(row: HumanTask, instance: Instance, user) -> None:
    if four_eyes_bars(row, instance, user):
        raise Forbidden("四眼原则：录入申请的人员不能审核同一申请，请由本校其他人员审核。")
