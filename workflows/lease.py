"""A lease: one process of a deployment runs a named job per interval (the periodic scan
of web workers without Redis). The row's `until` says when another process may take it."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from webapp.models import Lease, db, utcnow

HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def take(name: str, seconds: float, holder: str = HOLDER) -> bool:
    """Hold `name` for `seconds` if nobody else holds it now; commits either way."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    won = db.session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.until <= now, Lease.holder == holder))
        .values(holder=holder, until=until)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        if db.session.get(Lease, name) is not None:
            db.session.rollback()
            return False
        db.session.add(Lease(name=name, holder=holder, until=until))
    try:
        db.session.commit()
    except IntegrityError:  # another process created the row first
        db.session.rollback()
        return False
    return True
