"""results: pass/fail levels per student, term and subject, make-ups kept

Revision ID: 5d1e8f3a2c71
Revises: 3b7c2a91d0e4
Create Date: 2026-11-25 09:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5d1e8f3a2c71"
down_revision = "3b7c2a91d0e4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=4), nullable=False),
        sa.Column("credits", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["student_id"], ["student.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_result_student_current", "result", ["student_id", "current"])


def downgrade():
    op.drop_index("ix_result_student_current", table_name="result")
    op.drop_table("result")
