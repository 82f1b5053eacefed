"""Jurisdiction: what a user may see. Every query of records goes through here.

A user reaches its own organisation and everything below it in the tree; an admin
reaches everything. A record outside that reach is answered as absent (404).
"""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import or_, select

from .extensions import db
from .models import HumanTask, Instance, Organization, Student


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
    reach = org_ids_in_reach(user)
    query = Student.query
    if reach is None:
        return query
    return query.filter(or_(Student.school_id.in_(reach), Student.borrow_host_id.in_(reach)))


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
    reach = org_ids_in_reach(user)
    query = Instance.query
    if reach is None:
        return query
    routed_here = select(HumanTask.instance_id).where(HumanTask.org_id.in_(reach))
    return query.filter(
        or_(
            Instance.school_id.in_(reach),
            Instance.partner_school_id.in_(reach),
            Instance.id.in_(routed_here),
        )
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
