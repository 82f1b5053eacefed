"""The same engine on the real PostgreSQL server: schema by Alembic, a full transfer, one move."""

import pytest
from sqlalchemy import inspect

from webapp.extensions import db
from webapp.models import StatusHistory
from workflows import engine

from .flows import approve_all, transfer_data
from .world import build_world

pytestmark = pytest.mark.postgres


def test_schema_is_migrated(pg_app):
    assert db.engine.dialect.name == "postgresql"
    tables = set(inspect(db.engine).get_table_names())
    assert {"organization", "student", "instance", "human_task", "audit_log"} <= tables


def test_full_senior_transfer_on_postgres(pg_app):
    world = build_world()
    db.session.commit()
    student = world.student("H1", grade=11)
    db.session.commit()
    instance = engine.start("transfer", world.users["H2"], transfer_data(student, "H2"))
    path = approve_all(world, instance)
    assert [step for step, _ in path] == [
        "to_county_review",
        "from_school_review",
        "from_county_review",
        "city_review",
    ]
    db.session.expire_all()
    assert instance.status == "completed"
    assert student.school.code == "H2"
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1
