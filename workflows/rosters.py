"""Reviewers' changes to a cohort roster, made on the task page while their step is open.

Only a step whose BPMN carries `<spiffworkflow:property name="rosterChanges" value="true"/>`
may change the roster (the county review of a graduation); each change names its reason
and is written to the audit log.
"""

from __future__ import annotations

from webapp.models import CLASSIFICATIONS, RosterEntry, audit, db

from .engine import task_for
from .errors import Conflict, Forbidden, Invalid, NotFound
from .runtime import step_properties

ACTIONS = ("strike", "restore", "reclassify")
CLASSIFICATION_LABELS = {"graduated": "毕业", "completed": "结业（修业）", "left": "肄业"}


def _open_roster_step(task_id: int, user):
    """The user's open step that may change the roster: the same checks for one change or many."""
    row = task_for(task_id, user)
    if row.state != "open":
        raise Conflict("该任务已办理完毕，名册不能再修改。")
    if row.claimed_by_id not in (None, user.id):
        raise Conflict(f"该任务已由 {row.claimed_by.label} 认领，请勿修改名册。")
    if step_properties(row.instance, row.step).get("rosterChanges") != "true":
        raise Forbidden("此步骤不能修改名册。")
    return row


def _errors(action: str, comment: str, classification: str | None, actions=ACTIONS) -> dict:
    errors: dict[str, list[str]] = {}
    if action not in actions:
        errors["action"] = ["操作必须是剔除、恢复或更改结论。"]
    if not (comment or "").strip():
        errors["comment"] = ["请填写理由。"]
    if action == "reclassify" and classification not in CLASSIFICATIONS:
        errors["classification"] = ["结论必须是毕业、结业（修业）或肄业。"]
    return errors


def _apply(entry: RosterEntry, user, action: str, comment: str, classification) -> None:
    before = {"classification": entry.classification, "struck": entry.struck}
    if action == "reclassify":
        entry.classification = classification
    else:
        entry.struck = action == "strike"
    entry.comment = comment.strip()
    entry.changed_by_id = user.id
    audit(
        user,
        f"roster.{action}",
        entry,
        before,
        {"classification": entry.classification, "struck": entry.struck, "comment": entry.comment},
    )


def change_entry(
    task_id: int,
    user,
    entry_id: int,
    action: str,
    comment: str,
    classification: str | None = None,
) -> RosterEntry:
    """Strike a student from the roster, restore one, or change a classification."""
    row = _open_roster_step(task_id, user)
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or entry.instance_id != row.instance_id:
        raise NotFound("名册中没有这名学生。")
    errors = _errors(action, comment, classification)
    if action == "reclassify" and classification == entry.classification:
        errors.setdefault("classification", ["新结论与原结论相同。"])
    if errors:
        raise Invalid("名册修改有误。", errors)
    _apply(entry, user, action, comment, classification)
    db.session.commit()
    return entry


MAX_BULK = 500


def change_entries(
    task_id: int,
    user,
    entry_ids: list[int],
    action: str,
    comment: str,
    classification: str | None = None,
) -> list[RosterEntry]:
    """Strike or reclassify several entries with one reason, all in one transaction (a
    county's review of a 300-pupil roster); each entry is audited and carries who changed
    it. Entries already so are left as they are; one not on this roster refuses the lot."""
    row = _open_roster_step(task_id, user)
    entry_ids = list(dict.fromkeys(entry_ids))
    errors = _errors(action, comment, classification, ("strike", "reclassify"))
    if not entry_ids or len(entry_ids) > MAX_BULK:
        errors["entry_ids"] = [f"请勾选 1 到 {MAX_BULK} 名学生。"]
    if errors:
        raise Invalid("名册修改有误。", errors)
    found = RosterEntry.query.filter(
        RosterEntry.instance_id == row.instance_id, RosterEntry.id.in_(entry_ids)
    ).all()
    if len(found) != len(entry_ids):
        raise NotFound("名册中没有所选的部分学生，请刷新后重试。")
    changed = [
        e
        for e in found
        if (action == "strike" and not e.struck)
        or (action == "reclassify" and e.classification != classification)
    ]
    for entry in changed:
        _apply(entry, user, action, comment, classification)
    db.session.commit()
    return changed


def entries(instance_id: int, classification: str = "", class_name: str = ""):
    """The roster of one instance in class order, optionally narrowed to one outcome or class."""
    query = RosterEntry.query.filter_by(instance_id=instance_id)
    if classification == "struck":
        query = query.filter_by(struck=True)
    elif classification in CLASSIFICATIONS:
        query = query.filter_by(classification=classification, struck=False)
    if class_name:
        query = query.filter_by(class_name=class_name)
    return query.order_by(RosterEntry.class_name, RosterEntry.student_id)


def summary(instance_id: int) -> dict:
    """Counts per classification and per class (struck students counted apart)."""
    rows = (
        db.session.query(
            RosterEntry.class_name,
            RosterEntry.classification,
            RosterEntry.struck,
            db.func.count(RosterEntry.id),
        )
        .filter(RosterEntry.instance_id == instance_id)
        .group_by(RosterEntry.class_name, RosterEntry.classification, RosterEntry.struck)
        .all()
    )
    totals = dict.fromkeys((*CLASSIFICATIONS, "struck"), 0)
    per_class: dict[str, dict[str, int]] = {}
    for class_name, classification, struck, n in rows:
        key = "struck" if struck else classification
        totals[key] += n
        counts = per_class.setdefault(class_name or "", dict.fromkeys(totals, 0))
        counts[key] += n
    return {
        "total": sum(totals.values()),
        "totals": totals,
        "classes": dict(sorted(per_class.items())),
    }
