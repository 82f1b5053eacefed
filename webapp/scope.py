"""Jurisdiction: what a user may see. Every query of records goes through here.

A user reaches its own organisation and everything below it in the tree; an admin
reaches everything. A record outside that reach is answered as absent (404).

Reach is kept as data: `student_scope` and `instance_scope` hold one row for every
organisation that may see a record or an instance, so a county's or a city's list is one
range of an index (`org_id = mine`) however large the city. The rows are rewritten here,
in the same transaction, whenever what they derive from changes: a record's school or
borrowing host, an instance's schools, a step routed to an organisation.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_request_context
from sqlalchemy import bindparam, delete, event, inspect, select, text
from sqlalchemy.orm import Session

from .extensions import db
from .models import HumanTask, Instance, InstanceScope, Organization, Student, StudentScope

# -- reach ----------------------------------------------------------------------------------


def org_ids_in_reach(user) -> set[int] | None:
    """Ids of the organisations under the user's own; None means everything (admin)."""
    if user.role == "admin":
        return None
    cache_key = f"_reach_{user.id}"
    if has_request_context() and cache_key in g:
        return g.get(cache_key)
    tree = select(Organization.id).where(Organization.id == user.org_id).cte(recursive=True)
    tree = tree.union_all(select(Organization.id).where(Organization.parent_id == tree.c.id))
    ids = set(db.session.scalars(select(tree.c.id)))
    if has_request_context():
        setattr(g, cache_key, ids)
    return ids


def students(user):
    """Records whose status is held in reach, and students borrowing at a school in reach."""
    query = Student.query
    if user.role == "admin":
        return query
    return query.join(StudentScope, StudentScope.student_id == Student.id).filter(
        StudentScope.org_id == user.org_id
    )


def student_or_none(user, student_id: int) -> Student | None:
    return students(user).filter(Student.id == student_id).first()


def holds_status(user, student: Student) -> bool:
    """The student's status is held in reach (not merely borrowing at a school in reach).

    A host school sees its borrowing students but may only end the borrowing; every
    other procedure belongs to the school that holds the status.
    """
    reach = org_ids_in_reach(user)
    return reach is None or student.school_id in reach


def instances(user):
    """Procedures of a school in reach on either side, and those a step was routed to an
    organisation in reach (a county that places a student before any school is named)."""
    query = Instance.query
    if user.role == "admin":
        return query
    return query.join(InstanceScope, InstanceScope.instance_id == Instance.id).filter(
        InstanceScope.org_id == user.org_id
    )


def instance_or_none(user, instance_id: int) -> Instance | None:
    return instances(user).filter(Instance.id == instance_id).first()


def inbox(user, state: str = "open"):
    """The human tasks routed to the user's organisation and role (one indexed query)."""
    return HumanTask.query.filter(
        HumanTask.org_id == user.org_id, HumanTask.role == user.role, HumanTask.state == state
    )


def task_or_none(user, task_id: int) -> HumanTask | None:
    return HumanTask.query.filter(
        HumanTask.id == task_id, HumanTask.org_id == user.org_id, HumanTask.role == user.role
    ).first()


# -- keeping the scope rows right -----------------------------------------------------------

_STUDENT_SCOPE = text(
    """
    INSERT INTO student_scope (org_id, student_id)
    WITH RECURSIVE up(student_id, org_id) AS (
        SELECT id, school_id FROM student WHERE id IN :ids
        UNION SELECT id, borrow_host_id FROM student
              WHERE id IN :ids AND borrow_host_id IS NOT NULL
        UNION SELECT up.student_id, o.parent_id FROM up JOIN organization o ON o.id = up.org_id
              WHERE o.parent_id IS NOT NULL
    )
    SELECT org_id, student_id FROM up
    """
).bindparams(bindparam("ids", expanding=True))

_INSTANCE_SCOPE = text(
    """
    INSERT INTO instance_scope (org_id, instance_id)
    WITH RECURSIVE up(instance_id, org_id) AS (
        SELECT id, school_id FROM instance WHERE id IN :ids AND school_id IS NOT NULL
        UNION SELECT id, partner_school_id FROM instance
              WHERE id IN :ids AND partner_school_id IS NOT NULL
        UNION SELECT instance_id, org_id FROM human_task WHERE instance_id IN :ids
        UNION SELECT up.instance_id, o.parent_id FROM up JOIN organization o ON o.id = up.org_id
              WHERE o.parent_id IS NOT NULL
    )
    SELECT org_id, instance_id FROM up
    """
).bindparams(bindparam("ids", expanding=True))

# A step routed to an organisation adds what it lacks: the organisation and those above.
_ROUTED_SCOPE = text(
    """
    INSERT INTO instance_scope (org_id, instance_id)
    WITH RECURSIVE up(instance_id, org_id) AS (
        SELECT instance_id, org_id FROM human_task WHERE id IN :ids
        UNION SELECT up.instance_id, o.parent_id FROM up JOIN organization o ON o.id = up.org_id
              WHERE o.parent_id IS NOT NULL
    )
    SELECT org_id, instance_id FROM up WHERE NOT EXISTS (
        SELECT 1 FROM instance_scope s WHERE s.org_id = up.org_id AND s.instance_id = up.instance_id
    )
    ON CONFLICT DO NOTHING
    """
).bindparams(bindparam("ids", expanding=True))

_CHUNK = 500


def rescope_students(ids: Iterable[int], connection=None) -> None:
    """Rewrite the scope rows of these records from their schools (bulk writers call this)."""
    _rewrite(StudentScope.student_id, _STUDENT_SCOPE, ids, connection)


def rescope_instances(ids: Iterable[int], connection=None) -> None:
    _rewrite(InstanceScope.instance_id, _INSTANCE_SCOPE, ids, connection)


def _rewrite(column, insert, ids: Iterable[int], connection) -> None:
    conn = connection if connection is not None else db.session.connection()
    ids = sorted(set(ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(delete(column.table).where(column.in_(chunk)))
        conn.execute(insert, {"ids": chunk})


_STUDENT_SOURCES = ("school_id", "borrow_host_id")
_INSTANCE_SOURCES = ("school_id", "partner_school_id")


def _changed(obj, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _after_flush(session: Session, _context) -> None:
    """Rescope what this flush moved: new records and instances, changed schools, new steps."""
    students_moved, instances_moved, routed = set(), set(), []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Student) and (obj in session.new or _changed(obj, _STUDENT_SOURCES)):
            students_moved.add(obj.id)
        elif isinstance(obj, Instance) and (obj in session.new or _changed(obj, _INSTANCE_SOURCES)):
            instances_moved.add(obj.id)
        elif isinstance(obj, HumanTask) and obj in session.new:
            routed.append(obj)
    connection = session.connection()
    if students_moved:
        rescope_students(students_moved, connection)
    if instances_moved:
        rescope_instances(instances_moved, connection)
    routed = [t.id for t in routed if t.instance_id not in instances_moved]
    for start in range(0, len(routed), _CHUNK):
        connection.execute(_ROUTED_SCOPE, {"ids": routed[start : start + _CHUNK]})


def init_app(app) -> None:
    """Keep the scope rows right on every flush of the app's sessions (bound once)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
