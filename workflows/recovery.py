"""Getting lost work going again without a long fixed wait.

- A worker running an instance's steps holds a lease on it in Redis and renews it every
  third of `LEASE_SECONDS`; killed, it stops renewing, and the periodic scan queues the work
  again as soon as the lease has run out (and the work is in no queue).
- Retries wait in RQ's scheduled-job registry. They are moved into the queue by a thread
  of each worker process under a lock that lapses `SCHEDULER_LOCK_SECONDS` after its holder
  stops renewing it, so a killed worker takes its scheduling with it and another worker
  takes over within seconds. (RQ's own scheduler is a forked process: it outlives a killed
  parent, and a worker retries its lock only every ten minutes.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

from flask import current_app

log = logging.getLogger(__name__)

JOB_PREFIX = "xueji-advance-"
LEASE_KEY = "xueji:lease:{}"
SCHEDULER_LOCK = "xueji:scheduler-lock"
SCHEDULER_LOCK_SECONDS = 10


def lease_seconds() -> float:
    return float(current_app.config.get("LEASE_SECONDS", 30))


def job_id(instance_id: int) -> str:
    """Advance jobs carry their instance in their id, so the scan can tell what is queued."""
    return f"{JOB_PREFIX}{instance_id}-{uuid4().hex[:12]}"


def _instance_of(job: str) -> int | None:
    head = job[len(JOB_PREFIX) :].split("-", 1)[0] if job.startswith(JOB_PREFIX) else ""
    return int(head) if head.isdigit() else None


def waiting(queue) -> set[int]:
    """Instances with an advance job in the queue or scheduled for a retry."""
    ids = [*queue.get_job_ids(), *queue.scheduled_job_registry.get_job_ids(cleanup=False)]
    return {i for i in map(_instance_of, ids) if i is not None}


@contextmanager
def holding_lease(connection, instance_id: int, seconds: float) -> Iterator[None]:
    """Hold the instance's lease while the block runs, renewed from a thread."""
    key, done = LEASE_KEY.format(instance_id), threading.Event()
    ttl = max(1, round(seconds))
    connection.set(key, "1", ex=ttl)

    def renew() -> None:
        while not done.wait(seconds / 3):
            try:
                connection.set(key, "1", ex=ttl)
            except Exception:  # Redis away for a moment: the next renewal tries again
                log.warning("could not renew the lease of instance %s", instance_id)

    thread = threading.Thread(target=renew, name=f"xueji-lease-{instance_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        connection.delete(key)


def extend_lease(connection, instance_id: int, seconds: float) -> None:
    """Cover a retry's back-off wait, so the scan leaves the waiting retry alone."""
    connection.set(LEASE_KEY.format(instance_id), "1", ex=max(1, round(seconds)))


def leased(connection, instance_ids: list[int]) -> set[int]:
    if not instance_ids:
        return set()
    values = connection.mget([LEASE_KEY.format(i) for i in instance_ids])
    return {i for i, value in zip(instance_ids, values, strict=True) if value is not None}


def hold_scheduler_lock(connection, name: str) -> bool:
    """Take the scheduling lock, or renew it when `name` already holds it."""
    if connection.set(SCHEDULER_LOCK, name, nx=True, ex=SCHEDULER_LOCK_SECONDS):
        return True
    if connection.get(SCHEDULER_LOCK) == name.encode():
        connection.expire(SCHEDULER_LOCK, SCHEDULER_LOCK_SECONDS)
        return True
    return False


def enqueue_due(queue) -> int:
    """Move the retries whose time has come from the scheduled registry into the queue."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    registry = queue.scheduled_job_registry
    moved = 0
    for due in registry.get_jobs_to_schedule(int(time.time())):
        registry.remove(due)
        try:
            job = Job.fetch(due, connection=queue.connection)
        except NoSuchJobError:
            continue
        queue.enqueue_job(job)
        moved += 1
    return moved


def start_scheduler_thread(app, queue_factory, every: float = 1.0) -> threading.Thread:
    """Every `every` seconds, the holder of the scheduling lock moves due retries."""
    name = uuid4().hex

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    queue = queue_factory()
                    if hold_scheduler_lock(queue.connection, name):
                        enqueue_due(queue)
                except Exception:
                    log.exception("could not move due retries into the queue")
            time.sleep(every)

    thread = threading.Thread(target=loop, name="xueji-scheduler", daemon=True)
    thread.start()
    return thread
