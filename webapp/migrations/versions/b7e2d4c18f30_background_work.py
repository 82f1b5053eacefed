"""background work: queued automatic steps, incidents, due-date reminders

Revision ID: b7e2d4c18f30
Revises: 8a4f0c6e9b12
Create Date: 2026-11-25 10:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7e2d4c18f30"
down_revision = "8a4f0c6e9b12"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("pending_since", sa.DateTime(), nullable=True))
        batch.create_index("ix_instance_pending_since", ["pending_since"])
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_instance_id", "incident", ["instance_id"])


def downgrade():
    op.drop_index("ix_incident_instance_id", table_name="incident")
    op.drop_table("incident")
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("reminded_at")
    with op.batch_alter_table("instance") as batch:
        batch.drop_index("ix_instance_pending_since")
        batch.drop_column("pending_since")
