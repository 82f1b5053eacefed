"""The worker side: what `xueji worker` runs from the queue (advance an instance, the periodic
scan), retries and incidents, and the scan loops.

With `REDIS_URL` set, a human step commits and queues "advance instance N"
(`workflows.producer`); the worker locks the instance row, runs what is queued and commits.
Jobs are thin and idempotent; the database, not Redis, knows what is due
(`instance.pending_since`, `instance.wake_at`), so a flushed Redis or a killed worker loses
nothing: the periodic scan queues again work that is in no queue and whose worker's lease
ran out (`workflows.recovery`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from flask import current_app

import handlers
from webapp.models import Instance, db, utcnow

from . import deadlines, engine, lease, producer, recovery
from .persistence import commit, last_actor, record_incident, save
from .runtime import StepFailed, run_or_fail

log = logging.getLogger(__name__)


def in_app(fn, *args):
    """Jobs run in the worker's app context; a forked work horse opens its own connections
    (also the web side's jobs queued by name, e.g. an import)."""
    if not current_app:
        raise RuntimeError("xueji jobs run inside `xueji worker` (an application context)")
    extensions = current_app.extensions
    if extensions.setdefault("xueji_pid", os.getpid()) != os.getpid():
        db.engine.dispose(close=False)  # connections inherited from the parent stay its own
        extensions["xueji_pid"] = os.getpid()
    return fn(*args)


# -- advance an instance --------------------------------------------------------------------


def advance(instance_id: int, tries: int = 1) -> str:
    """Run an instance's queued automatic steps; a failure is tried again, then an incident."""
    return in_app(_advance, instance_id, tries)


def _advance(instance_id: int, tries: int) -> str:
    seconds = recovery.lease_seconds()
    try:
        with recovery.holding_lease(producer.redis(), instance_id, seconds):
            return "advanced" if run_pending(instance_id) else "nothing queued"
    except StepFailed as failed:
        allowed = handlers.TRIES.get(failed.step or "", handlers.DEFAULT_TRIES)
        if tries < allowed:
            backoff = current_app.config.get("RETRY_BACKOFF") or [2, 10, 30]
            wait = backoff[min(tries - 1, len(backoff) - 1)]
            recovery.extend_lease(producer.redis(), instance_id, wait + seconds)
            producer.enqueue(instance_id, tries + 1, wait)
            log.warning(
                "instance %s step %s failed (try %s): %s",
                instance_id,
                failed.step,
                tries,
                failed.error,
            )
            return f"retry {tries + 1} in {wait}s"
        record_incident(instance_id, failed.step, describe(failed.error), tries)
        return "incident"


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def run_pending(instance_id: int) -> bool:
    """Run an instance's queued automatic steps; False when nothing was queued.

    The instance row is locked for the run (first worker wins; a second finds nothing
    queued), so a job delivered twice, or re-queued after a killed worker, moves nothing twice.
    """
    instance = db.session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
    if instance is None or instance.status != "running" or instance.pending_since is None:
        db.session.rollback()
        return False
    actor = last_actor(instance)
    wf = engine.load(instance, actor)
    run_or_fail(instance, wf)
    instance.pending_since = None
    save(instance, wf)
    commit()
    return True


def stale_pending(older_than: timedelta) -> list[int]:
    """Instances whose automatic steps were queued longer ago than `older_than` and are not
    done: the scan queues those again that no worker holds (`lost_work`)."""
    since = utcnow() - older_than
    rows = Instance.query.filter(
        Instance.status == "running", Instance.pending_since <= since
    ).with_entities(Instance.id)
    return [i for (i,) in rows]


# -- the periodic scan ----------------------------------------------------------------------


def scan() -> dict:
    """The periodic scan: due timers, and queued work that no worker is doing or will do."""
    return in_app(_scan)


def _scan() -> dict:
    done = _scan_inline()
    lost = lost_work()
    for instance_id in lost:
        producer.enqueue(instance_id)
    return {**done, "requeued": lost}


def lost_work() -> list[int]:
    """Instances queued longer than a lease that are in no queue and held by no live worker."""
    candidates = stale_pending(timedelta(seconds=recovery.lease_seconds()))
    if not candidates:
        return []
    held = recovery.leased(producer.redis(), candidates) | recovery.waiting(producer.queue())
    return [i for i in candidates if i not in held]


def _scan_inline() -> dict:
    """What is due by the clock: timers of waiting instances, due-date reminders."""
    return {"timers": engine.fire_due_timers(), "reminders": deadlines.send_due_reminders()}


def start_scan_thread(app, every: float) -> threading.Thread:
    """Queue the scan every `every` seconds from the worker process (one per time slot, so
    several workers do not multiply it). Nothing of it lives only in Redis."""

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    producer.enqueue_scan(int(time.time() // every))
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
