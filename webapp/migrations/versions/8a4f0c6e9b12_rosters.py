"""cohort rosters and certificate serials

Revision ID: 8a4f0c6e9b12
Revises: 5d1e8f3a2c71
Create Date: 2026-11-25 09:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "8a4f0c6e9b12"
down_revision = "5d1e8f3a2c71"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_serial",
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix"),
    )
    op.create_table(
        "roster_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=32), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("struck", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("certificate_number", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["changed_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("certificate_number"),
        sa.UniqueConstraint("instance_id", "student_id"),
    )
    op.create_index(
        "ix_roster_entry_instance_class", "roster_entry", ["instance_id", "class_name"]
    )


def downgrade():
    op.drop_index("ix_roster_entry_instance_class", table_name="roster_entry")
    op.drop_table("roster_entry")
    op.drop_table("certificate_serial")
