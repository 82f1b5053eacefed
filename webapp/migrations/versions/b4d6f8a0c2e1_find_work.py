"""issue 16 (find work): saved filters per user, the inbox by due date, 业务查询 by day

Revision ID: b4d6f8a0c2e1
Revises: e9c1a3b5d7f2
Create Date: 2027-02-12 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b4d6f8a0c2e1"
down_revision = "e9c1a3b5d7f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_filter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("page", sa.String(16), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("query_string", sa.String(1000), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_saved_filter_user_page_name", "saved_filter", ["user_id", "page", "name"], unique=True
    )
    # An organisation's open tasks in due order: the default sort and "overdue only" read
    # one range of this index instead of sorting the whole inbox.
    op.create_index("ix_human_task_inbox_due", "human_task", ["org_id", "role", "state", "due_at"])


def downgrade():
    op.drop_index("ix_human_task_inbox_due", table_name="human_task")
    op.drop_index("ix_saved_filter_user_page_name", table_name="saved_filter")
    op.drop_table("saved_filter")
