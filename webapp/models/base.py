"""The one SQLAlchemy object every table is declared on (bound to the app in the factory).

Named constraints, so Alembic migrations work the same on SQLite and PostgreSQL.
"""

import json
from collections.abc import Iterable, Sequence

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, MetaData, Table

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MAX_ID = 2**31 - 1  # every id column is a 32-bit INTEGER on PostgreSQL

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))


def copy_rows(table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Write rows with PostgreSQL's COPY in the session's transaction: a bulk import's
    100,000 records in seconds, where a multi-row INSERT spends its time parsing parameters.
    JSON columns take Python values."""
    json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    if row[i] is not None:
                        row[i] = json.dumps(row[i], ensure_ascii=False)
            copy.write_row(row)
