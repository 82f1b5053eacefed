"""Checks a step's input passes before anything runs: the evidence is the caller's own
organisation's uploads, and a four-eyes step is not done by who entered the application."""

from __future__ import annotations

from webapp.models import MAX_ID, FileUpload, HumanTask, Instance, User

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


def check_four_eyes(row: HumanTask, instance: Instance, user) -> None:
    """A step marked notBy=initiator must be done by someone other than who entered it."""
    props = runtime.step_properties(instance, row.step)
    if props.get("notBy") == "initiator" and instance.initiator_id == user.id:
        raise Forbidden("四眼原则：录入申请的人员不能审核同一申请，请由本校其他人员审核。")
