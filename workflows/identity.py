"""Starts that name a pupil by ID number and name (the taking side of a transfer or a
borrow-study) must not work as a lookup of other jurisdictions' pupils.

- A wrong pair and a right pair the caller may not start get the same refusal.
- Each organisation has a budget of such starts per hour (`IDENTITY_STARTS_PER_HOUR`, no
  limit when unset, as in the test bench's sandbox), counted in Redis when configured
  (shared by every process), else in the application object of this process.
- Until the sending school approves, the taking school is not told where the pupil is
  (`sender_hidden`); the sending school may refuse the start at once (`engine.refuse`).
"""

from __future__ import annotations

import threading
import time

from flask import current_app

from webapp.models import Instance, Organization, db
from webapp.models.vocabulary import PROCEDURES

from . import producer
from .errors import EngineError, Invalid

REFUSAL = (
    "无法按此身份证号和姓名发起：未找到相符的在籍学生，或该学生目前不能办理此业务"
    "（如已有正在办理的业务）。请核对后重试，或联系学生学籍所在学校。"
)
WINDOW = 3600
_lock = threading.Lock()


class TooMany(EngineError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def refused() -> Invalid:
    """The one answer for a pair that names no pupil the caller may start for."""
    return Invalid(REFUSAL, {"id_number": [REFUSAL]})


def take_budget(org_id: int) -> None:
    """Count one start by identity for the organisation; over the budget is a 429."""
    limit = current_app.config.get("IDENTITY_STARTS_PER_HOUR")
    if not limit:
        return
    now = time.time()
    slot = int(now // WINDOW)
    used = _count_redis(org_id, slot) if current_app.config.get("REDIS_URL") else None
    if used is None:
        counts = current_app.extensions.setdefault("xueji_identity_starts", {})
        with _lock:
            for key in [k for k in counts if k[1] != slot]:
                del counts[key]
            used = counts[(org_id, slot)] = counts.get((org_id, slot), 0) + 1
    if used > limit:
        wait = int((slot + 1) * WINDOW - now) + 1
        raise TooMany(
            f"本单位按身份证号和姓名发起业务过于频繁（每小时最多 {limit} 次），"
            f"请于 {max(1, wait // 60)} 分钟后再试。",
            wait,
        )


def _count_redis(org_id: int, slot: int) -> int | None:
    from redis.exceptions import RedisError

    key = f"xueji:identity-starts:{org_id}:{slot}"
    try:
        pipe = producer.redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW * 2)
        return int(pipe.execute()[0])
    except RedisError:
        return None  # Redis down: this process still counts


def started_by_identity(instance: Instance) -> bool:
    """The taking school started it, naming another school's pupil by ID number and name."""
    data = instance.data or {}
    if not PROCEDURES[instance.procedure].two_sided or not data.get("id_number"):
        return False
    starter = getattr(instance.initiator, "org_id", None)
    return starter is not None and starter == data.get("to_school_id") != data.get("from_school_id")


def sender_hidden(instance: Instance, org_id: int | None) -> bool:
    """Whether `org_id` is the taking school of an identity start whose sending school has
    not approved yet: then nothing it is shown may name the pupil's school."""
    data = instance.data or {}
    sending = data.get("from_school_id")
    if org_id is None or org_id == sending or org_id != data.get("to_school_id"):
        return False  # from the data alone, before anything is read for it
    if not started_by_identity(instance):
        return False
    return not any(e.org_id == sending and e.decision == "approve" for e in instance.events)


def hidden_orgs(instance: Instance, user) -> set[int]:
    """The organisations not to name to `user` (see `sender_hidden`): the pupil's school and
    the bureaus above it, except those above the user as well."""
    return hidden_from(instance, user.org) if user is not None else set()


def hidden_from(instance: Instance, org: Organization) -> set[int]:
    """`hidden_orgs` for everyone of `org` (a notice goes to an organisation)."""
    if not sender_hidden(instance, org.id):
        return set()
    school = db.session.get(Organization, instance.data["from_school_id"])
    return {o.id for o in school.lineage()} - {o.id for o in org.lineage()}
