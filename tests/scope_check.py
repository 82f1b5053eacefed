"""The scope rows checked against the organisation tree, for every record and instance."""

from __future__ import annotations

from collections import defaultdict

from webapp.extensions import db
from webapp.models import HumanTask, Instance, InstanceScope, Organization, Student, StudentScope


def _lineage(parents: dict[int, int | None], org_id: int | None) -> set[int]:
    out = set()
    while org_id is not None:
        out.add(org_id)
        org_id = parents[org_id]
    return out


def scope_mismatches() -> list[str]:
    """Every record and instance whose scope rows differ from what the tree says."""
    parents = dict(db.session.query(Organization.id, Organization.parent_id))
    actual = defaultdict(set)
    for org_id, student_id in db.session.query(StudentScope.org_id, StudentScope.student_id):
        actual["student", student_id].add(org_id)
    for org_id, instance_id in db.session.query(InstanceScope.org_id, InstanceScope.instance_id):
        actual["instance", instance_id].add(org_id)
    expected = defaultdict(set)
    for sid, school, host in db.session.query(
        Student.id, Student.school_id, Student.borrow_host_id
    ):
        expected["student", sid] = _lineage(parents, school) | _lineage(parents, host)
    for iid, school, partner in db.session.query(
        Instance.id, Instance.school_id, Instance.partner_school_id
    ):
        expected["instance", iid] |= _lineage(parents, school) | _lineage(parents, partner)
    for iid, org_id in db.session.query(HumanTask.instance_id, HumanTask.org_id):
        expected["instance", iid] |= _lineage(parents, org_id)
    return [
        f"{kind} {key}: rows {sorted(actual[kind, key])}, tree {sorted(expected[kind, key])}"
        for kind, key in sorted(set(actual) | set(expected))
        if actual[kind, key] != expected[kind, key]
    ]
