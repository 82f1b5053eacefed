"""Queueing background work on RQ, by name only: "advance instance N" once the step that made
it due has committed, and the periodic scan. `workflows.worker` consumes what is queued; this
module never imports it, so the web side holds no worker code.

Without `REDIS_URL` nothing is queued and the automatic steps run inline (the demo).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event

from webapp.models import db

from . import recovery

QUEUE_NAME = "xueji"
ADVANCE_JOB = "workflows.worker.advance"
SCAN_JOB = "workflows.worker.scan"
log = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def redis() -> Redis:
    """The app's one Redis connection (made on first use)."""
    app = current_app._get_current_object()
    conn = app.extensions.get("xueji_redis")
    if conn is None:
        conn = app.extensions["xueji_redis"] = Redis.from_url(app.config["REDIS_URL"])
    return conn


def queue() -> Queue:
    return Queue(QUEUE_NAME, connection=redis())


def enqueue_after_commit(instance_id: int) -> None:
    """Queue "advance instance N" once the current transaction commits (never before)."""
    db.session.info.setdefault("xueji_advance", set()).add(instance_id)


def enqueue(instance_id: int, tries: int = 1, wait: float | None = None) -> None:
    """Queue "advance instance N" now, or after `wait` seconds (a retry's back-off)."""
    job = {"job_id": recovery.job_id(instance_id), "job_timeout": 600}
    if wait is None:
        queue().enqueue(ADVANCE_JOB, instance_id, tries, **job)
    else:
        queue().enqueue_in(timedelta(seconds=wait), ADVANCE_JOB, instance_id, tries, **job)


def enqueue_scan(slot: int) -> None:
    """Queue the periodic scan once per time slot, however many processes ask."""
    queue().enqueue(SCAN_JOB, job_id=f"xueji-scan-{slot}", result_ttl=60)


def _after_commit(session) -> None:
    for instance_id in sorted(session.info.pop("xueji_advance", ())):
        try:
            enqueue(instance_id)
        except Exception:  # Redis down: the scan queues it again from the database
            log.exception("could not queue instance %s", instance_id)


def _after_rollback(session) -> None:
    session.info.pop("xueji_advance", None)


def init_app(app: Flask) -> None:
    """Queue only what committed: the session's commit and rollback decide (bound once)."""
    session_class = db.session.__class__
    for name, listener in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener, propagate=True)
