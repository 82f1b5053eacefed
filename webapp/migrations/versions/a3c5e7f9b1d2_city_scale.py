"""city scale: jurisdiction as rows, search indexes, the unread index, the scan lease

Revision ID: a3c5e7f9b1d2
Revises: e6a2c9d4f518
Create Date: 2026-12-01 15:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a3c5e7f9b1d2"
down_revision = "e6a2c9d4f518"
branch_labels = None
depends_on = None

# Every organisation above a record's school (and above its borrowing host), itself included.
STUDENT_SCOPE = """
INSERT INTO student_scope (org_id, student_id)
WITH RECURSIVE up(student_id, org_id) AS (
    SELECT id, school_id FROM student
    UNION SELECT id, borrow_host_id FROM student WHERE borrow_host_id IS NOT NULL
    UNION SELECT up.student_id, o.parent_id FROM up JOIN organization o ON o.id = up.org_id
          WHERE o.parent_id IS NOT NULL
)
SELECT org_id, student_id FROM up
"""

# Every organisation above either school of an instance and above every organisation a
# step was routed to.
INSTANCE_SCOPE = """
INSERT INTO instance_scope (org_id, instance_id)
WITH RECURSIVE up(instance_id, org_id) AS (
    SELECT id, school_id FROM instance WHERE school_id IS NOT NULL
    UNION SELECT id, partner_school_id FROM instance WHERE partner_school_id IS NOT NULL
    UNION SELECT instance_id, org_id FROM human_task
    UNION SELECT up.instance_id, o.parent_id FROM up JOIN organization o ON o.id = up.org_id
          WHERE o.parent_id IS NOT NULL
)
SELECT org_id, instance_id FROM up
"""


def upgrade():
    op.create_table(
        "student_scope",
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("student.id"), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "student_id", name="pk_student_scope"),
    )
    op.create_index("ix_student_scope_student_id", "student_scope", ["student_id"])
    op.create_table(
        "instance_scope",
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("instance.id"), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "instance_id", name="pk_instance_scope"),
    )
    op.create_index("ix_instance_scope_instance_id", "instance_scope", ["instance_id"])
    op.create_table(
        "lease",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_lease"),
    )
    op.execute(STUDENT_SCOPE)
    op.execute(INSTANCE_SCOPE)

    op.create_index("ix_notification_list", "notification", ["org_id", "created_at"])
    op.create_index(
        "ix_notification_unread",
        "notification",
        ["org_id", "role"],
        sqlite_where=sa.text("read_at IS NULL"),
        postgresql_where=sa.text("read_at IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_student_id_number_prefix",
            "student",
            ["id_number"],
            postgresql_ops={"id_number": "varchar_pattern_ops"},
        )
        op.execute(
            "CREATE INDEX ix_student_id_number_suffix ON student "
            "(reverse(id_number) text_pattern_ops)"
        )
        op.create_index(
            "ix_student_status_number_prefix",
            "student",
            ["status_number"],
            postgresql_ops={"status_number": "varchar_pattern_ops"},
        )
        op.create_index(
            "ix_student_name_prefix",
            "student",
            ["name"],
            postgresql_ops={"name": "varchar_pattern_ops"},
        )
        op.execute(
            "CREATE INDEX ix_student_name_suffix ON student (reverse(name) text_pattern_ops)"
        )
        op.create_index(
            "ix_student_name_trgm",
            "student",
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_student_name_trgm", "student")
        op.drop_index("ix_student_name_suffix", "student")
        op.drop_index("ix_student_name_prefix", "student")
        op.drop_index("ix_student_status_number_prefix", "student")
        op.drop_index("ix_student_id_number_suffix", "student")
        op.drop_index("ix_student_id_number_prefix", "student")
    op.drop_index("ix_notification_unread", "notification")
    op.drop_index("ix_notification_list", "notification")
    op.drop_table("lease")
    op.drop_index("ix_instance_scope_instance_id", "instance_scope")
    op.drop_table("instance_scope")
    op.drop_index("ix_student_scope_student_id", "student_scope")
    op.drop_table("student_scope")
