"""issue 15 (spreadsheets): the national student template's fields on the record, and the
school's 10-digit 学校标识码

Revision ID: d2f4b6a8c0e1
Revises: c8e4a2f6d1b9
Create Date: 2027-02-01 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d2f4b6a8c0e1"
down_revision = "c8e4a2f6d1b9"
branch_labels = None
depends_on = None

STUDENT_COLUMNS = (
    ("id_type", sa.String(16)),
    ("native_place", sa.String(64)),
    ("birthplace_code", sa.String(12)),
    ("nationality", sa.String(32)),
    ("overseas", sa.String(8)),
    ("health", sa.String(16)),
    ("household_type", sa.String(16)),
    ("class_number", sa.String(7)),
    ("entry_month", sa.Integer()),
    ("admission_mode", sa.String(16)),
    ("study_mode", sa.String(8)),
    ("address_current", sa.String(128)),
    ("address_mail", sa.String(128)),
    ("address_home", sa.String(128)),
    ("phone", sa.String(32)),
    ("members", sa.JSON()),
    ("national_extra", sa.JSON()),
)


def upgrade():
    with op.batch_alter_table("student") as batch:
        for name, type_ in STUDENT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("identifier", sa.String(10), nullable=True))
        batch.create_unique_constraint("uq_organization_identifier", ["identifier"])


def downgrade():
    with op.batch_alter_table("organization") as batch:
        batch.drop_constraint("uq_organization_identifier", type_="unique")
        batch.drop_column("identifier")
    with op.batch_alter_table("student") as batch:
        for name, _ in reversed(STUDENT_COLUMNS):
            batch.drop_column(name)
