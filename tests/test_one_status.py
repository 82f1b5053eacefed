"""One student, one status: the database refuses a second active status for an ID number."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Student

from .world import build_world


def _copy(student: Student, school, status: str = "enrolled") -> Student:
    twin = Student(
        id_number=student.id_number,
        name=student.name,
        gender=student.gender,
        birth_date=student.birth_date,
        school=school,
        grade=student.grade,
        entry_year=student.entry_year,
        status=status,
    )
    db.session.add(twin)
    return twin


def _check(world) -> None:
    first = world.student("P1", grade=4)
    _copy(first, world.orgs["P3"])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    _copy(first, world.orgs["P3"], status="suspended")
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # A record that left school does not count: the ID number may hold a status again.
    first.status = "withdrawn"
    db.session.commit()
    _copy(first, world.orgs["P3"])
    db.session.commit()
    assert Student.query.filter_by(id_number=first.id_number).count() == 2


def test_a_second_active_status_is_refused_on_sqlite(world):
    _check(world)


@pytest.mark.postgres
def test_a_second_active_status_is_refused_on_postgres(pg_app):
    world = build_world()
    db.session.commit()
    _check(world)
