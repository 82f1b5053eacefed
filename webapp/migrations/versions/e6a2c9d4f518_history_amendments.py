"""history amendments: an instance may add later rows to a record's history (续办休学)

Revision ID: e6a2c9d4f518
Revises: d5b1f2a7c9e4
Create Date: 2026-11-25 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e6a2c9d4f518"
down_revision = "d5b1f2a7c9e4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("status_history") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_status_history_instance_id", type_="unique")
        batch.create_unique_constraint(
            "uq_status_history_change", ["instance_id", "student_id", "seq"]
        )


def downgrade():
    with op.batch_alter_table("status_history") as batch:
        batch.drop_constraint("uq_status_history_change", type_="unique")
        batch.create_unique_constraint("uq_status_history_instance_id", ["instance_id", "student_id"])
        batch.drop_column("seq")
