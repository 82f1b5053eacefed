"""issue 14 (certificates): a vocational school's graduation credits from its filed teaching plan

Revision ID: c8e4a2f6d1b9
Revises: c3e8a4b6d2f1
Create Date: 2027-01-20 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c8e4a2f6d1b9"
down_revision = "c3e8a4b6d2f1"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a school that has set no number is refused at graduation, by name.
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("plan_credits", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("plan_credits")
