"""The one SQLAlchemy object every table is declared on (bound to the app in the factory).

Named constraints, so Alembic migrations work the same on SQLite and PostgreSQL.
"""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MAX_ID = 2**31 - 1  # every id column is a 32-bit INTEGER on PostgreSQL

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
