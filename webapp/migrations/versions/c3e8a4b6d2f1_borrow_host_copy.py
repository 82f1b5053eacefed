"""a borrowing host keeps its results (result.school_id) and a copy of the record it hosted

Revision ID: c3e8a4b6d2f1
Revises: b7d9e1f3a5c8
Create Date: 2027-01-20 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c3e8a4b6d2f1"
down_revision = "b7d9e1f3a5c8"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a result earned at the school holding the status names no other school.
    with op.batch_alter_table("result") as batch:
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_result_school_id", "organization", ["school_id"], ["id"])
    op.create_table(
        "hosted_copy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("student.id"), nullable=False),
        sa.Column(
            "instance_id", sa.Integer(), sa.ForeignKey("instance.id"), nullable=False, unique=True
        ),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("kept_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_hosted_copy_host_student", "hosted_copy", ["host_id", "student_id"])


def downgrade():
    op.drop_index("ix_hosted_copy_host_student", table_name="hosted_copy")
    op.drop_table("hosted_copy")
    with op.batch_alter_table("result") as batch:
        batch.drop_constraint("fk_result_school_id", type_="foreignkey")
        batch.drop_column("school_id")
