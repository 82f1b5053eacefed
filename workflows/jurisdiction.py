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

from collections.abc import Iterable, Iterator

from flask import g, has_request_context
from sqlalchemy import bindparam, delete, event, inspect, select, text
from sqlalchemy.orm import Session

from webapp.models import (
    HostedCopy,
    HumanTask,
    Instance,
    InstanceScope,
    Organization,
    Student,
    StudentScope,
    db,
)
from webapp.models.base import copy_rows

from .errors import NotFound

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


def hosted_copy_or_none(user, student_id: int) -> HostedCopy | None:
    """The read-only copy a school keeps of a record it hosted (000 说明5), its latest.

    Only the host school's own users read it, by (host, student): one range of an index.
    It reaches nothing else: no list, no search, no procedure.
    """
    if user.role != "school":
        return None
    return (
        HostedCopy.query.filter(
            HostedCopy.host_id == user.org_id, HostedCopy.student_id == student_id
        )
        .order_by(HostedCopy.id.desc())
        .first()
    )


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


def instance_in_reach(user, instance_id: int) -> Instance:
    """The instance a verb acts on; NotFound outside the user's reach, as for a missing one."""
    instance = instance_or_none(user, instance_id)
    if instance is None:
        raise NotFound("业务不存在或不在您的管辖范围内。")
    return instance


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


def _scope_insert(table: str, key: str, roots: str, only_missing: bool = False):
    """INSERT into `table` a row for every organisation at or above each (key, org_id) that
    `roots` selects; `only_missing` adds only the rows not there yet."""
    missing = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} s"
        f" WHERE s.org_id = up.org_id AND s.{key} = up.{key}) ON CONFLICT DO NOTHING"
        if only_missing
        else ""
    )
    return text(
        f"""
        INSERT INTO {table} (org_id, {key})
        WITH RECURSIVE up({key}, org_id) AS (
            {roots}
            UNION SELECT up.{key}, o.parent_id FROM up JOIN organization o ON o.id = up.org_id
                  WHERE o.parent_id IS NOT NULL
        )
        SELECT org_id, {key} FROM up{missing}
        """
    ).bindparams(bindparam("ids", expanding=True))


_STUDENT_SCOPE = _scope_insert(
    "student_scope",
    "student_id",
    "SELECT id, school_id FROM student WHERE id IN :ids"
    " UNION SELECT id, borrow_host_id FROM student"
    " WHERE id IN :ids AND borrow_host_id IS NOT NULL",
)
_INSTANCE_SCOPE = _scope_insert(
    "instance_scope",
    "instance_id",
    "SELECT id, school_id FROM instance WHERE id IN :ids AND school_id IS NOT NULL"
    " UNION SELECT id, partner_school_id FROM instance"
    " WHERE id IN :ids AND partner_school_id IS NOT NULL"
    " UNION SELECT instance_id, org_id FROM human_task WHERE instance_id IN :ids",
)
# A step routed to an organisation adds what it lacks: the organisation and those above.
_ROUTED_SCOPE = _scope_insert(
    "instance_scope",
    "instance_id",
    "SELECT instance_id, org_id FROM human_task WHERE id IN :ids",
    only_missing=True,
)

_CHUNK = 500


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = sorted(set(ids))
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def rescope_students(ids: Iterable[int], connection=None) -> None:
    """Rewrite the scope rows of these records from their schools (bulk writers call this)."""
    conn = connection if connection is not None else db.session.connection()
    for chunk in _chunks(ids):
        conn.execute(delete(StudentScope).where(StudentScope.student_id.in_(chunk)))
        conn.execute(_STUDENT_SCOPE, {"ids": chunk})


def scope_new_students(records: Iterable[tuple[int, int]]) -> None:
    """The scope rows of records just inserted, given as (student id, school id), with no
    borrowing host: every organisation at or above the school, as `rescope_students` writes
    them. PostgreSQL takes them in one COPY from the schools' lineage (a bulk import)."""
    records = list(records)
    if db.session.get_bind().dialect.name != "postgresql":
        rescope_students(student_id for student_id, _ in records)
        return
    lineage: dict[int, list[int]] = {}
    for _, school_id in records:
        if school_id not in lineage:
            lineage[school_id] = [o.id for o in db.session.get(Organization, school_id).lineage()]
    copy_rows(
        StudentScope.__table__,
        ("org_id", "student_id"),
        (
            (org_id, student_id)
            for student_id, school_id in records
            for org_id in lineage[school_id]
        ),
    )


def _rescope_instances(ids: Iterable[int], connection) -> None:
    for chunk in _chunks(ids):
        connection.execute(delete(InstanceScope).where(InstanceScope.instance_id.in_(chunk)))
        connection.execute(_INSTANCE_SCOPE, {"ids": chunk})


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
        _rescope_instances(instances_moved, connection)
    for chunk in _chunks(t.id for t in routed if t.instance_id not in instances_moved):
        connection.execute(_ROUTED_SCOPE, {"ids": chunk})


def init_app(app) -> None:
    """Keep the scope rows right on every flush of the app's sessions (bound once)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
