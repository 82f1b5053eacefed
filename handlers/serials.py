"""Serial numbers handed out once: certificates, and status numbers where a region counts."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.models import CertificateSerial, db


def reserve_serials(prefix: str, count: int) -> range:
    """`count` serials under `prefix`, never handed out twice (one atomic UPDATE)."""
    table = CertificateSerial.__table__
    upsert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(upsert(table).values(prefix=prefix, last=0).on_conflict_do_nothing())
    last = db.session.execute(
        update(table)
        .where(table.c.prefix == prefix)
        .values(last=table.c.last + count)
        .returning(table.c.last)
    ).scalar_one()
    return range(last - count + 1, last + 1)
