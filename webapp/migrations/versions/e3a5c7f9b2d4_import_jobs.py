"""issue 15 (spreadsheets): import jobs — the uploaded file between preview and 确认导入,
and the write's progress

Revision ID: e3a5c7f9b2d4
Revises: d2f4b6a8c0e1
Create Date: 2027-02-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e3a5c7f9b2d4"
down_revision = "d2f4b6a8c0e1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("ignored_columns", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
    )
    op.create_index("ix_import_job_user_id", "import_job", ["user_id"])


def downgrade():
    op.drop_index("ix_import_job_user_id", table_name="import_job")
    op.drop_table("import_job")
