"""instances wait on timers; automatic instances have no initiator

Revision ID: 3b7c2a91d0e4
Revises: ee38eb720711
Create Date: 2026-11-25 08:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3b7c2a91d0e4"
down_revision = "ee38eb720711"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("wake_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_instance_wake_at", ["wake_at"])
        batch.alter_column("initiator_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    with op.batch_alter_table("instance") as batch:
        batch.alter_column("initiator_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_index("ix_instance_wake_at")
        batch.drop_column("wake_at")
