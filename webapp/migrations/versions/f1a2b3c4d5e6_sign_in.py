"""sign-in: a per-user session generation (revocation), last sign-in and freezing; audit actor

Revision ID: f1a2b3c4d5e6
Revises: a3c5e7f9b1d2
Create Date: 2026-12-01 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f1a2b3c4d5e6"
down_revision = "a3c5e7f9b1d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_login_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("unfrozen_at", sa.DateTime(), nullable=True))
    # Existing accounts start their idle clock now, not at the epoch.
    user = sa.table("user", sa.column("created_at", sa.DateTime()))
    op.execute(user.update().values(created_at=sa.func.now()))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("actor")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("unfrozen_at")
        batch.drop_column("last_login_at")
        batch.drop_column("created_at")
        batch.drop_column("session_epoch")
