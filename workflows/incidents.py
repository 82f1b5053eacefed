"""Incidents: an automatic step that failed for good waits for an admin (or the county over
its instance), who retries it — the instance continues where it stopped — or cancels the
instance. Recording one is the background worker's last word on a failing step.
"""

from __future__ import annotations

from webapp.models import Incident, Instance, audit, db, utcnow
from workflows import jurisdiction

from . import producer
from .engine import rerun
from .errors import Conflict, Forbidden, NotFound
from .persistence import all_or_nothing, commit, end_early


def _resolve(incident_id: int, user, resolution: str) -> Incident:
    """Mark an unresolved incident the user may act on (admins, and the county over its
    instance) as resolved by them."""
    incident = db.session.get(Incident, incident_id)
    if incident is None or jurisdiction.instance_or_none(user, incident.instance_id) is None:
        raise NotFound("故障记录不存在。")
    if user.role not in ("admin", "county"):
        raise Forbidden("只有平台管理员或县级教育行政部门可以处理故障。")
    if incident.resolved_at is not None:
        raise Conflict("该故障已处理。")
    incident.resolved_at, incident.resolved_by_id, incident.resolution = (
        utcnow(),
        user.id,
        resolution,
    )
    return incident


@all_or_nothing
def retry_incident(incident_id: int, user) -> Instance:
    """Run the failed step again; a success continues the instance where it stopped."""
    incident = _resolve(incident_id, user, "retried")
    instance = incident.instance
    instance.status = "running"
    audit(user, "incident.retry", incident)
    if producer.enabled():
        instance.pending_since = utcnow()
        producer.enqueue_after_commit(instance.id)
        commit()
        return instance
    rerun(instance, user)
    commit()
    return instance


@all_or_nothing
def cancel_incident(incident_id: int, user, comment: str) -> Instance:
    """Give up on the instance: it ends as cancelled and lets go of its student."""
    incident = _resolve(incident_id, user, "cancelled")
    instance = incident.instance
    end_early(instance, "cancelled", "incident_cancelled", comment)
    audit(user, "incident.cancel", incident, None, {"comment": comment})
    commit()
    return instance
