"""Background execution on RQ: automatic steps run in a worker, the periodic scan fires timers.

With `REDIS_URL` set, a human step commits and queues "advance instance N"; the worker
locks the instance row, runs what is queued and commits. Without it, everything runs
inline in the request (the demo). Jobs are thin and idempotent; the database, not Redis,
knows what is due (`instance.pending_since`, `instance.wake_at`), so a flushed Redis or a
killed worker loses nothing: the periodic scan queues again work that is in no queue and
whose worker's lease ran out (`workflows.recovery`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import event

from webapp.extensions import db

from . import recovery

QUEUE_NAME = "xueji"
log = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def _redis():
    from redis import Redis

    app = current_app._get_current_object()
    conn = app.extensions.get("xueji_redis")
    if conn is None:
        conn = app.extensions["xueji_redis"] = Redis.from_url(app.config["REDIS_URL"])
    return conn


def queue():
    from rq import Queue

    return Queue(QUEUE_NAME, connection=_redis())


# -- queue only what committed --------------------------------------------------------------


def enqueue_after_commit(instance_id: int) -> None:
    """Queue "advance instance N" once the current transaction commits (never before)."""
    db.session.info.setdefault("xueji_advance", set()).add(instance_id)


@event.listens_for(db.session.__class__, "after_commit", propagate=True)
def _after_commit(session) -> None:
    for instance_id in sorted(session.info.pop("xueji_advance", ())):
        try:
            _enqueue(instance_id)
        except Exception:  # Redis down: the scan queues it again from the database
            log.exception("could not queue instance %s", instance_id)


def _enqueue(instance_id: int, tries: int = 1, wait: float | None = None) -> None:
    job = {"job_id": recovery.job_id(instance_id), "job_timeout": 600}
    if wait is None:
        queue().enqueue(advance, instance_id, tries, **job)
    else:
        queue().enqueue_in(timedelta(seconds=wait), advance, instance_id, tries, **job)


@event.listens_for(db.session.__class__, "after_rollback", propagate=True)
def _after_rollback(session) -> None:
    session.info.pop("xueji_advance", None)


# -- the jobs -------------------------------------------------------------------------------


def _in_app(fn, *args):
    """Jobs run in the worker's app context; a forked work horse opens its own connections."""
    if not current_app:
        raise RuntimeError("xueji jobs run inside `xueji worker` (an application context)")
    extensions = current_app.extensions
    if extensions.setdefault("xueji_pid", os.getpid()) != os.getpid():
        db.engine.dispose(close=False)  # connections inherited from the parent stay its own
        extensions["xueji_pid"] = os.getpid()
    return fn(*args)


def advance(instance_id: int, tries: int = 1) -> str:
    """Run an instance's queued automatic steps; a failure is tried again, then an incident."""
    return _in_app(_advance, instance_id, tries)


def _advance(instance_id: int, tries: int) -> str:
    import handlers

    from . import engine

    lease = recovery.lease_seconds()
    try:
        with recovery.holding_lease(_redis(), instance_id, lease):
            return "advanced" if engine.run_pending(instance_id) else "nothing queued"
    except engine.StepFailed as failed:
        allowed = handlers.TRIES.get(failed.step or "", handlers.DEFAULT_TRIES)
        if tries < allowed:
            backoff = current_app.config.get("RETRY_BACKOFF") or [2, 10, 30]
            wait = backoff[min(tries - 1, len(backoff) - 1)]
            recovery.extend_lease(_redis(), instance_id, wait + lease)
            _enqueue(instance_id, tries + 1, wait)
            log.warning(
                "instance %s step %s failed (try %s): %s",
                instance_id,
                failed.step,
                tries,
                failed.error,
            )
            return f"retry {tries + 1} in {wait}s"
        engine.record_incident(instance_id, failed.step, _describe(failed.error), tries)
        return "incident"


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text[:2000]


def scan() -> dict:
    """The periodic scan: due timers, and queued work that no worker is doing or will do."""
    return _in_app(_scan)


def _scan() -> dict:
    done = _scan_inline()
    lost = lost_work()
    for instance_id in lost:
        _enqueue(instance_id)
    return {**done, "requeued": lost}


def lost_work() -> list[int]:
    """Instances queued longer than a lease that are in no queue and held by no live worker."""
    from . import engine

    candidates = engine.stale_pending(timedelta(seconds=recovery.lease_seconds()))
    if not candidates:
        return []
    held = recovery.leased(_redis(), candidates) | recovery.waiting(queue())
    return [i for i in candidates if i not in held]


def _scan_inline() -> dict:
    """What is due by the clock: timers of waiting instances, due-date reminders."""
    from . import deadlines, engine

    return {"timers": engine.fire_due_timers(), "reminders": deadlines.send_due_reminders()}


def start_scan_thread(app, every: float) -> threading.Thread:
    """Queue the scan every `every` seconds from the worker process (one per time slot, so
    several workers do not multiply it). Nothing of it lives only in Redis."""

    def loop() -> None:
        while True:
            with app.app_context():
                slot = int(time.time() // every)
                try:
                    queue().enqueue(scan, job_id=f"xueji-scan-{slot}", result_ttl=60)
                except Exception:
                    log.exception("could not queue the periodic scan")
            time.sleep(every)

    thread = threading.Thread(target=loop, name="xueji-scan", daemon=True)
    thread.start()
    return thread


def scan_in_web_process_without_redis(app) -> None:
    """No Redis, so no worker: each web process fires timers itself (under the lease)."""
    if not app.config.get("REDIS_URL"):
        start_inline_scan(app, float(app.config.get("SCAN_SECONDS", 30)))


def start_inline_scan(app, every: float) -> threading.Thread:
    """Without Redis, the web processes run the same scan themselves every `every` s; the
    lease lets one of them scan per interval however many a deployment runs."""
    from . import lease

    def loop() -> None:
        while True:
            time.sleep(every)
            with app.app_context():
                try:
                    if lease.take("scan", every * 0.9):
                        _scan_inline()
                except Exception:
                    log.exception("the periodic scan failed")
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, name="xueji-inline-scan", daemon=True)
    thread.start()
    return thread
