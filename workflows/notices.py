"""Who is told what: the notices of the notification centre, and their e-mails.

A notice goes to an organisation and a role (as a task does), never to one person:
whoever of that organisation is on duty reads it; the header shows the unread count.

| what happened                               | who is told                         | kind      |
| ------------------------------------------- | ----------------------------------- | --------- |
| a step waits for a person                   | the step's organisation and role    | task      |
| a step came back (退回修改, 要求复查)       | the step's organisation and role    | returned  |
| two working days before a step's due day    | the step's organisation and role    | reminder  |
| a procedure ended without approval          | the applying school and any other   | rejected  |
|                                             | school that had a step in it (not   |           |
|                                             | the one that rejected)              |           |
| the applicant withdrew its application      | every waiting step's organisation   | withdrawn |
|                                             | and role, and the other school      |           |
| a procedure is done                         | the schools whose record changed    | completed |
|                                             | (handlers call `tell_school`)       |           |
| another school started a transfer or a      | the pupil's own school, at once, so | started   |
| borrow-study for a pupil by ID number       | it can refuse one it did not ask for|           |

Notices about a step point at the task (`task_id`); notices about an outcome carry the
instance (`instance_id`). The engine calls `tasks_ready` and `rejected`; the periodic
scan calls `workflows.deadlines.send_due_reminders`, which calls `reminder`.

E-mail: when SMTP is set up (`webapp/mail.py`), every notice written in a transaction,
wherever it was written, is mailed after that transaction commits to the active users of
its organisation (and role) who have an address. A rolled-back transaction sends nothing;
a mail failure is logged and undoes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import event, select

from webapp.models import (
    HumanTask,
    Instance,
    InstanceEvent,
    Notification,
    Organization,
    User,
    db,
    utcnow,
)
from webapp.models.vocabulary import procedure_name

from . import identity, mail, workdays

log = logging.getLogger(__name__)

KIND_LABELS = {
    "task": "新的待办任务",
    "returned": "申请被退回",
    "reminder": "办理期限提醒",
    "rejected": "业务未通过",
    "completed": "业务办结",
    "started": "他校发起的申请",
    "withdrawn": "申请已撤销",
}
RETURN_DECISIONS = {"return": "退回修改", "reexamine": "要求复查"}


# -- what the engine and the scan call ------------------------------------------------------


def tasks_ready(instance: Instance, rows: list[HumanTask]) -> None:
    """New open steps: tell each step's organisation and role (as a return when sent back)."""
    if not rows:
        return
    last = _last_decision(instance)
    returned = last is not None and last.decision in RETURN_DECISIONS
    for row in rows:
        due = _day(row.due_at)
        if returned:
            org = db.session.get(Organization, last.org_id) if last.org_id else None
            by = org.name if org is not None else "审核单位"
            addressed = db.session.get(Organization, row.org_id)  # row.org: not loaded yet
            if org is not None and org.id in identity.hidden_from(instance, addressed):
                by = "学生学籍所在地"  # the taking school is not told which school (identity)
            message = (
                f"{_about(instance)}被{by}{RETURN_DECISIONS[last.decision]}，"
                f"意见：{last.comment or '（无）'}。请在“{row.name}”中处理，办理期限 {due}。"
            )
        else:
            message = f"新的待办任务：{_about(instance)}，步骤“{row.name}”，请于 {due} 前办理。"
        _add(row.org_id, row.role, "returned" if returned else "task", message, task=row)


def reminder(row: HumanTask, now: datetime | None = None) -> Notification:
    """The due-date reminder for one open step, to its organisation and role."""
    now = now or utcnow()
    due = _day(row.due_at)
    if row.due_at is not None and row.due_at < now:
        message = f"逾期提醒：{_about(row.instance)}的“{row.name}”已于 {due} 到期，请尽快办理。"
    else:
        message = f"办理期限提醒：{_about(row.instance)}的“{row.name}”将于 {due} 到期，请尽快办理。"
    return _add(row.org_id, row.role, "reminder", message, task=row)


def rejected(instance: Instance) -> None:
    """The procedure ended without approval: tell the schools that took part, once."""
    with db.session.no_autoflush:
        told = db.session.scalar(
            select(Notification.id).where(
                Notification.instance_id == instance.id, Notification.kind == "rejected"
            )
        )
        if told is not None or any(
            isinstance(n, Notification) and n.instance_id == instance.id and n.kind == "rejected"
            for n in db.session.new
        ):
            return
        schools = {
            org_id
            for (org_id,) in db.session.execute(
                select(HumanTask.org_id).where(
                    HumanTask.instance_id == instance.id, HumanTask.role == "school"
                )
            )
        }
    applicant = instance.initiator.org_id if instance.initiator is not None else instance.school_id
    last = _last_decision(instance)
    rejecter = last.org_id if last is not None and last.decision == "reject" else None
    why = instance.reason_message or ""
    message = f"{_about(instance)}未通过，办理终止（业务编号 {instance.id}）。" + (
        f"理由：{why}" if why else ""
    )
    for org_id in dict.fromkeys([applicant, *sorted(schools)]):
        if org_id is not None and org_id != rejecter:
            _add(org_id, "school", "rejected", message, instance_id=instance.id)


def withdrawn(instance: Instance, waiting: list[HumanTask], by_org_id: int) -> None:
    """The applicant withdrew: whoever had a step waiting, and the other school, hear it."""
    message = (
        f"{_about(instance)}已由发起单位撤销，办理终止（业务编号 {instance.id}）。"
        f"理由：{instance.reason_message}"
    )
    told = {(row.org_id, row.role) for row in waiting}
    told |= {(school, "school") for school in (instance.school_id, instance.partner_school_id)}
    for org_id, role in sorted(told, key=lambda pair: (pair[0] or 0, pair[1])):
        if org_id is not None and org_id != by_org_id:
            _add(org_id, role, "withdrawn", message, instance_id=instance.id)


def started_for_pupil(instance: Instance, taking_id: int, home_id: int) -> None:
    """Another school named the pupil by ID number: the pupil's school hears of it at once."""
    taking = db.session.get(Organization, taking_id)
    message = (
        f"{taking.name}按身份证号和姓名为本校学生发起了{_about(instance)}（业务编号 "
        f"{instance.id}）。如本校及学生家长不知情，可在该业务页面立即拒绝。"
    )
    _add(home_id, "school", "started", message, instance_id=instance.id)


def tell_school(school_id: int, kind: str, message: str, instance_id: int) -> None:
    """An outcome a handler reports to a school (a record changed, an extension decided)."""
    _add(school_id, "school", kind, message, instance_id=instance_id)


# -- helpers ------------------------------------------------------------------------------


def _add(org_id: int, role: str | None, kind: str, message: str, **refs) -> Notification:
    notice = Notification(org_id=org_id, role=role, kind=kind, message=message, **refs)
    db.session.add(notice)
    return notice


def _about(instance: Instance) -> str:
    """“转学申请（学生 王小明）”, or for a cohort “毕业验印申请（海陵实验小学）”."""
    who = (
        f"学生 {instance.student.name}"
        if instance.student is not None
        else (instance.school.name if instance.school is not None else f"业务编号 {instance.id}")
    )
    return f"{procedure_name(instance.procedure)}申请（{who}）"


def _day(moment: datetime | None) -> str:
    return workdays.china_day(moment).isoformat() if moment is not None else "（无期限）"


def _last_decision(instance: Instance) -> InstanceEvent | None:
    """The latest step a person did on the instance (pending in this transaction or saved)."""
    pending = [
        e
        for e in db.session.new
        if isinstance(e, InstanceEvent)
        and e.instance_id == instance.id
        and e.user_id is not None
        and e.decision != "comment"
    ]
    if pending:
        return max(pending, key=lambda e: e.id or 0)
    with db.session.no_autoflush:
        return (
            InstanceEvent.query.filter(
                InstanceEvent.instance_id == instance.id,
                InstanceEvent.user_id.is_not(None),
                InstanceEvent.decision.is_distinct_from("comment"),  # a remark decides nothing
            )
            .order_by(InstanceEvent.id.desc())
            .first()
        )


# -- e-mail after commit ---------------------------------------------------------------------

OUTBOX = "xueji_mail"


def _mail_for(session, notice: Notification) -> list[mail.Mail]:
    query = select(User.email).where(
        User.org_id == notice.org_id,
        User.active.is_(True),
        User.email.is_not(None),
        User.email != "",
    )
    if notice.role:
        query = query.where(User.role == notice.role)
    subject = f"【学籍通】{KIND_LABELS.get(notice.kind or '', '业务通知')}"
    body = (
        f"{notice.message}\n\n"
        "请登录学籍通，在“通知”或“待办任务”中查看。\n"
        "——\n本邮件由学籍通自动发送，请勿直接回复。\n"
    )
    return [mail.Mail(email, subject, body) for email in session.execute(query).scalars()]


@event.listens_for(db.session.__class__, "after_flush", propagate=True)
def _collect(session, flush_context) -> None:
    """Address the mails of the notices just written (inside the transaction)."""
    notices = [n for n in session.new if isinstance(n, Notification)]
    if not notices or not has_app_context():
        return
    smtp = mail.settings(current_app.config)
    if smtp is None:
        return
    outbox = session.info.setdefault(OUTBOX, {"smtp": smtp, "mails": []})
    for notice in sorted(notices, key=lambda n: n.id):
        outbox["mails"].extend(_mail_for(session, notice))


@event.listens_for(db.session.__class__, "after_commit", propagate=True)
def _send(session) -> None:
    outbox = session.info.pop(OUTBOX, None)
    if not outbox or not outbox["mails"]:
        return
    try:
        mail.send(outbox["mails"], outbox["smtp"])
    except Exception:  # the work is committed; a mail server down loses only the mail
        log.exception("could not send %s notice mail(s)", len(outbox["mails"]))


@event.listens_for(db.session.__class__, "after_rollback", propagate=True)
def _forget(session) -> None:
    session.info.pop(OUTBOX, None)
