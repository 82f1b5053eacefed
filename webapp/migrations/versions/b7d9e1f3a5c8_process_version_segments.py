"""process versions store the segments (called processes) their diagram calls

Revision ID: b7d9e1f3a5c8
Revises: f1a2b3c4d5e6
Create Date: 2027-01-10 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7d9e1f3a5c8"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a version deployed before segments calls none and keeps NULL.
    with op.batch_alter_table("process_version") as batch:
        batch.add_column(sa.Column("segments", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("process_version") as batch:
        batch.drop_column("segments")
