"""Work on several at once (issue 16 point 3): complete many tasks of one step with one
decision, and start one procedure for several students. Each item runs through the single
verb (`engine.complete`, `engine.start`) in its own transaction, so a refused item neither
stops nor undoes the others, and each is audited as a single one is; the caller gets one
report line per item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError

from forms import FORMS
from webapp.models import HumanTask, Student, china_today, db
from webapp.models.vocabulary import PROCEDURES

from . import engine, jurisdiction
from .errors import EngineError, Invalid
from .step_checks import carried_evidence

MAX_BATCH = 500
NOT_FOUND = "任务不存在或不在您的办理范围内。"


@dataclass
class Outcome:
    """One line of a batch's report: `done`, or `refused` with the Chinese reason."""

    item_id: int
    status: str
    error: str | None = None
    code: str | None = None
    fields: dict = field(default_factory=dict)
    instance_id: int | None = None
    instance_status: str | None = None
    label: str = ""  # who or what, for a page's report

    def as_dict(self, key: str) -> dict:
        out = {key: self.item_id, "status": self.status}
        if self.error:
            out.update(error=self.error, code=self.code)
        if self.fields:
            out["fields"] = self.fields
        if self.instance_id is not None:
            out.update(instance_id=self.instance_id, instance_status=self.instance_status)
        return out


def _distinct(ids: list[int], name: str) -> list[int]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise Invalid("请至少选择一项。", {name: ["请至少选择一项。"]})
    if len(ids) > MAX_BATCH:
        message = f"一次最多批量办理 {MAX_BATCH} 项，本次选择了 {len(ids)} 项。"
        raise Invalid(message, {name: [message]})
    return ids


def reachable_tasks(task_ids: list[int], user) -> dict[int, HumanTask]:
    """The tasks among `task_ids` routed to the user's organisation and role (one query);
    the rest are reported as not found, saying nothing of whose they are."""
    rows = HumanTask.query.filter(
        HumanTask.id.in_(task_ids), HumanTask.org_id == user.org_id, HumanTask.role == user.role
    ).all()
    return {row.id: row for row in rows}


def one_step(rows) -> HumanTask | None:
    """The batch's step (procedure, step and form), refused when the tasks mix steps: one
    decision and one comment only make sense for one kind of review."""
    kinds = {(r.instance.procedure, r.step, r.form_key): r for r in rows}
    if len(kinds) > 1:
        names = "、".join(f"{PROCEDURES[p].name}“{r.name}”" for (p, _, _), r in kinds.items())
        message = f"只能批量办理同一步骤的任务，所选任务属于 {len(kinds)} 个步骤：{names}。"
        raise Invalid(message, {"task_ids": [message]})
    return next(iter(kinds.values()), None)


def complete_many(task_ids: list[int], user, data: dict) -> list[Outcome]:
    """Complete each task with the same form data, each in its own transaction.

    Refused as a whole (Invalid, nothing done): no ids, more than MAX_BATCH, tasks of more
    than one step, data that does not fit the step's form. Refused per item: a task out of
    reach (as not found), completed already, claimed by a colleague, barred by four eyes.
    """
    task_ids = _distinct(task_ids, "task_ids")
    found = reachable_tasks(task_ids, user)
    sample = one_step(found.values())
    if sample is not None:
        try:
            FORMS[sample.form_key].load(carried_evidence(sample.instance, sample.form_key, data))
        except ValidationError as exc:
            raise Invalid.from_marshmallow(exc.messages) from exc
    db.session.rollback()  # each item reads its task afresh in its own transaction
    report = []
    for task_id in task_ids:
        if task_id not in found:
            report.append(Outcome(task_id, "refused", NOT_FOUND, "not_found"))
            continue
        try:
            instance = engine.complete(task_id, user, dict(data))
        except EngineError as exc:
            report.append(_refused(task_id, exc))
            continue
        report.append(
            Outcome(task_id, "done", instance_id=instance.id, instance_status=instance.status)
        )
    return report


def _refused(item_id: int, exc: EngineError, label: str = "") -> Outcome:
    return Outcome(item_id, "refused", exc.message, exc.code, exc.fields or {}, label=label)


# -- several students, one procedure --------------------------------------------------------


def resumable_students(user):
    """The caller's own suspended students whose suspension has ended (复学 may be applied
    for), the longest waiting first: the list a school picks from."""
    return (
        jurisdiction.students(user)
        .filter(
            Student.school_id == user.org_id,
            Student.status == "suspended",
            Student.suspended_until.is_not(None),
            Student.suspended_until <= china_today(),
        )
        .order_by(Student.suspended_until, Student.id)
    )


def _not_resumable(student: Student) -> str | None:
    """Why a resumption is not started for `student` (no instance is made for it)."""
    if student.status != "suspended":
        return f"{student.name}当前不是休学状态，无需复学。"
    if student.suspended_until is not None and student.suspended_until > china_today():
        return f"{student.name}的休学期至 {student.suspended_until:%Y-%m-%d} 届满，期满前不得复学。"
    return None


def start_resumptions(student_ids: list[int], user, data: dict) -> list[Outcome]:
    """Start a 复学 for each student with the same date, note and evidence, each into the
    grade and class it left (the default rule; another grade is applied for one by one),
    each in its own transaction through `engine.start`. A student still inside the
    suspension is refused before anything is made; a start the rules end at once is
    reported refused with the rule's message."""
    student_ids = _distinct(student_ids, "student_ids")
    report = []
    for student_id in student_ids:
        student = jurisdiction.student_or_none(user, student_id)
        if student is None:
            report.append(
                Outcome(student_id, "refused", "学生不存在或不在您的管辖范围内。", "not_found")
            )
            continue
        why = _not_resumable(student)
        if why:
            report.append(Outcome(student_id, "refused", why, "conflict", label=student.name))
            continue
        own = {"to_grade": student.grade, "to_class_name": ""}
        try:
            instance = engine.start("resumption", user, {**data, **own}, student_id)
        except EngineError as exc:
            report.append(_refused(student_id, exc))
            continue
        outcome = Outcome(
            student_id, "done", instance_id=instance.id, instance_status=instance.status
        )
        if instance.status == "rejected":
            outcome.status, outcome.code = "refused", "rejected"
            outcome.error = instance.reason_message or "申请未通过自动检查。"
        report.append(outcome)
    return report
