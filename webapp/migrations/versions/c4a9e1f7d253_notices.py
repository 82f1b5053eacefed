"""notices: users' e-mail, notice kind and task, due-date index

Revision ID: c4a9e1f7d253
Revises: b7e2d4c18f30
Create Date: 2026-11-25 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4a9e1f7d253"
down_revision = "b7e2d4c18f30"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch.create_foreign_key(
            "fk_notification_task_id_human_task", "human_task", ["task_id"], ["id"]
        )
    with op.batch_alter_table("human_task") as batch:
        batch.create_index("ix_human_task_due", ["state", "due_at"])


def downgrade():
    with op.batch_alter_table("human_task") as batch:
        batch.drop_index("ix_human_task_due")
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint("fk_notification_task_id_human_task", type_="foreignkey")
        batch.drop_column("kind")
        batch.drop_column("task_id")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("email")
