"""issue 16 (take back, hand over): an organisation's lead, and since when a task is claimed

Revision ID: e9c1a3b5d7f2
Revises: e3a5c7f9b2d4
Create Date: 2027-02-10 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e9c1a3b5d7f2"
down_revision = "e3a5c7f9b2d4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("lead", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # A claim made before this revision has no known time: it stays empty.
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("claimed_at")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("lead")
