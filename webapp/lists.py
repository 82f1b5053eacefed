"""What each list page reads with its rows, loaded in a few statements per page (not one
per row): the relations the list's columns show, and not the workflow state, which no
list shows."""

from __future__ import annotations

from flask import g
from sqlalchemy import or_
from sqlalchemy.orm import defer, joinedload, selectinload

from .models import HumanTask, Instance, InstanceEvent, Organization, ProcessVersion, Student

STUDENT_ROWS = (
    joinedload(Student.school),
    selectinload(Student.borrow_host),
    selectinload(Student.certificates),
    selectinload(Student.history),
)
INSTANCE_ROWS = (
    defer(Instance.state),
    selectinload(Instance.process_version).load_only(ProcessVersion.version),
    selectinload(Instance.student),
    selectinload(Instance.tasks).joinedload(HumanTask.org),
    # What decides whether the taking school may see the pupil's school yet (identity.py).
    selectinload(Instance.initiator),
    selectinload(Instance.events),
)
INSTANCE_PAGE_ROWS = (
    *INSTANCE_ROWS,
    selectinload(Instance.school),
    selectinload(Instance.partner_school),
)
TASK_ROWS = (
    joinedload(HumanTask.instance).options(defer(Instance.state), selectinload(Instance.student)),
    selectinload(HumanTask.claimed_by),
)

# One instance as the API shows it (after a step, every row is read again): three statements.
INSTANCE_DETAIL = (
    joinedload(Instance.process_version).load_only(ProcessVersion.version),
    joinedload(Instance.student),
    selectinload(Instance.tasks).joinedload(HumanTask.org),
    selectinload(Instance.events).options(
        joinedload(InstanceEvent.user), joinedload(InstanceEvent.org)
    ),
)


def sending_schools(instances: list[Instance]) -> None:
    """The pupils' schools of a page of instances, and every bureau, in one statement: what
    deciding whether a taking school may see them needs (workflows/identity.py), which then
    reads them from the session instead of a statement per row."""
    ids = {i.data.get("from_school_id") for i in instances if i.data} - {None}
    if ids:
        # Kept on g: the session holds its objects only while someone refers to them.
        g.page_organizations = Organization.query.filter(
            or_(Organization.id.in_(ids), Organization.level != "school")
        ).all()
