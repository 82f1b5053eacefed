"""A day at the desk (issue 16): the applying organisation takes its application back (撤销),
an organisation's lead hands a colleague's claimed task over, and anyone involved comments
without deciding. Verbs of the engine's façade (`engine` re-exports them), one transaction
each, audited.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from webapp.models import (
    Certificate,
    HumanTask,
    Instance,
    InstanceEvent,
    StatusHistory,
    User,
    audit,
    db,
    utcnow,
)

from . import jurisdiction, notices
from .errors import Conflict, Forbidden, Invalid, NotFound
from .persistence import all_or_nothing, commit, end_early, open_tasks, person_event
from .step_checks import four_eyes_bars

MAX_COMMENT = 2000


# -- withdrawing ----------------------------------------------------------------------------


def withdraw_refusal(instance: Instance, user) -> str | None:
    """Why `user` may not withdraw `instance` now; None when they may.

    The national system's rule: "只有转入学校可以撤销，且须在全部核办之前" — only the side
    that applied, and only before every review is done. Read here as: a user of the
    organisation (and role) that entered the application; the instance still running; a
    person's step still open (a review, or the applicant's own correction, after which the
    reviews go on); and no final step has yet changed a record or issued a certificate for
    it. So a suspension already approved, waiting for its expiry reminder or an extension's
    review, is past the point, and so is an instance whose last review is done and whose
    final automatic step is queued.
    """
    starter = instance.initiator
    if starter is None or starter.org_id != user.org_id or starter.role != user.role:
        return "只有发起申请的单位可以撤销该申请。"
    if instance.status != "running":
        return "该业务已结束，不能撤销。"
    if not open_tasks(instance):
        return "该申请的审核已全部办结，不能撤销。"
    changed = db.session.scalar(
        select(
            or_(
                exists().where(StatusHistory.instance_id == instance.id),
                exists().where(Certificate.instance_id == instance.id),
            )
        )
    )
    if changed:
        return "该申请已审核通过并变更了学籍，不能撤销。"
    return None


@all_or_nothing
def withdraw(instance_id: int, user, comment: str) -> Instance:
    """The applying organisation withdraws: it ends as cancelled (reason `withdrawn`), its
    open steps are cancelled, its timers stop, the student is let go, the others are told."""
    instance = jurisdiction.instance_in_reach(user, instance_id)
    refused = withdraw_refusal(instance, user)
    if refused:
        raise Conflict(refused)
    comment = (comment or "").strip()
    if not comment or len(comment) > MAX_COMMENT:
        message = f"请填写撤销理由（1 到 {MAX_COMMENT} 个字）。"
        raise Invalid(message, {"comment": [message]})
    waiting = end_early(instance, "cancelled", "withdrawn", comment)
    person_event(instance, user, "withdraw", "发起单位撤销申请", "withdraw", comment)
    notices.withdrawn(instance, waiting, user.org_id)
    audit(
        user,
        f"{instance.procedure}.withdraw",
        instance,
        {"status": "running"},
        {"status": "cancelled", "comment": comment},
    )
    commit()
    return instance


# -- commenting -----------------------------------------------------------------------------


@all_or_nothing
def add_comment(instance_id: int, user, text: str) -> InstanceEvent:
    """A remark in the history (decision `comment`) by anyone who sees the instance; it
    decides nothing, so no step, status or timer changes."""
    instance = jurisdiction.instance_in_reach(user, instance_id)
    text = (text or "").strip()
    if not text or len(text) > MAX_COMMENT:
        message = f"留言内容须为 1 到 {MAX_COMMENT} 个字。"
        raise Invalid(message, {"text": [message]})
    event = person_event(instance, user, "comment", "留言", "comment", text)
    db.session.flush()
    audit(user, "instance.comment", instance, None, {"text": text})
    commit()
    return event


# -- a lead hands over ----------------------------------------------------------------------


def colleagues_for(row: HumanTask) -> list[User]:
    """Who a lead may hand `row` to: active users of its organisation and role, less the one
    the four-eyes rule bars from it (who entered the application)."""
    users = (
        User.query.filter(User.org_id == row.org_id, User.role == row.role, User.active.is_(True))
        .order_by(User.username)
        .all()
    )
    return [u for u in users if not four_eyes_bars(row, row.instance, u)]


@all_or_nothing
def assign(task_id: int, user, username: str) -> HumanTask:
    """The organisation's lead gives an open task to a colleague who may do it: it is then
    claimed by that colleague, whoever held it before."""
    row = jurisdiction.task_or_none(user, task_id)
    if row is None:
        raise NotFound("任务不存在或不在您的办理范围内。")
    if not user.lead:
        raise Forbidden("只有本单位负责人可以转交任务。")
    if row.state != "open":
        raise Conflict("该任务已办理完毕，不能转交。")
    target = next((u for u in colleagues_for(row) if u.username == username), None)
    if target is None:
        message = f"用户“{username}”不是本单位可以办理该步骤的人员（四眼原则下录入人也不能）。"
        raise Invalid(message, {"username": [message]})
    before = {"claimed_by": row.claimed_by.username if row.claimed_by else None}
    row.claimed_by_id, row.claimed_at = target.id, utcnow()
    audit(user, "task.assign", row, before, {"claimed_by": target.username})
    commit()
    db.session.refresh(row)
    return row


def needs_other_reviewer(row: HumanTask, user) -> bool:
    """The inbox's "需他人审核": a four-eyes step `user` entered, so another must do it."""
    return row.instance.initiator_id == user.id and four_eyes_bars(row, row.instance, user)
