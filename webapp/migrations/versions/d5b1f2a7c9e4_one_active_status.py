"""one student, one status: a partial unique index on active ID numbers

Revision ID: d5b1f2a7c9e4
Revises: c4a9e1f7d253
Create Date: 2026-11-25 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d5b1f2a7c9e4"
down_revision = "c4a9e1f7d253"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('enrolled', 'suspended')")


def upgrade():
    op.create_index(
        "uq_student_one_active_status",
        "student",
        ["id_number"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade():
    op.drop_index("uq_student_one_active_status", table_name="student")
