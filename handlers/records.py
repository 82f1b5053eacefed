"""The one way a final step changes a student's record: once, with a history row.

Every procedure's final automatic step calls `change_record`. A second run of the same
step (jobs are delivered at least once) finds the history row of its instance and stops.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, update

from webapp.models import Certificate, Organization, StatusHistory, Student, audit, db, utcnow
from webapp.models.vocabulary import procedure_name

from . import Context

# Organisation references are kept in the history by code: readable, and stable across ids.
ORG_COLUMNS = ("school_id", "borrow_host_id")


def _as_history(record: dict) -> dict:
    out = {}
    for key, value in record.items():
        if key in ORG_COLUMNS:
            org = db.session.get(Organization, value) if value is not None else None
            out[key.removesuffix("_id") + "_code"] = org.code if org else None
        else:
            out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def change_record(
    ctx: Context,
    procedure: str,
    changes: dict,
    notify_school_ids: tuple[int, ...] = (),
    noted: dict | None = None,
) -> tuple[Student, StatusHistory | None]:
    """Set `changes` (column → value) on the instance's student; None as row when already done.

    `noted` adds facts to the history row that are not columns (e.g. the results a host
    school recorded). The student's school (after the change) and `notify_school_ids` are
    told it is done.
    """
    student, row = _write(ctx, procedure, changes, noted, seq=0)
    if row is None:
        return student, None
    message = f"学生 {student.name} 的{procedure_name(procedure)}手续已办结（业务编号 {ctx.instance.id}）。"
    for school_id in dict.fromkeys((student.school_id, *notify_school_ids)):
        ctx.tell_school(school_id, "completed", message)
    db.session.flush()
    return student, row


def amend_record(
    ctx: Context, procedure: str, changes: dict, seq: int, noted: dict | None = None
) -> tuple[Student, StatusHistory | None]:
    """A later change by an instance that already changed the record (a suspension's
    `seq`-th extension moves `suspended_until`): one more history row, once per `seq`."""
    return _write(ctx, procedure, changes, noted, seq)


def _write(
    ctx: Context, procedure: str, changes: dict, noted: dict | None, seq: int
) -> tuple[Student, StatusHistory | None]:
    """Apply `changes` with a history row and an audit entry; nothing when this instance
    already wrote its `seq`-th row (a handler may run twice)."""
    student = db.session.get(Student, ctx.data["student_id"])
    done = StatusHistory.query.filter_by(
        instance_id=ctx.instance.id, student_id=student.id, seq=seq
    ).first()
    if done is not None:
        return student, None
    before = _as_history({k: getattr(student, k) for k in changes})
    for key, value in changes.items():
        setattr(student, key, value)
    after = {**_as_history(changes), **(noted or {})}
    row = StatusHistory(
        student_id=student.id,
        procedure=procedure,
        instance_id=ctx.instance.id,
        seq=seq,
        before=before,
        after=after,
        user_id=getattr(ctx.user, "id", None),
    )
    db.session.add(row)
    audit(ctx.user, f"student.{procedure}", student, before, after)
    db.session.flush()
    db.session.refresh(student)  # relationships (school, borrow_host) follow the new ids
    return student, row


def issue_certificate(ctx: Context, student: Student, kind: str, number: str) -> Certificate:
    """One certificate of this instance, audited in the name of whoever set the step going."""
    certificate = Certificate(
        student_id=student.id, kind=kind, number=number, instance_id=ctx.instance.id
    )
    db.session.add(certificate)
    db.session.flush()
    audit(ctx.user, "certificate.issue", certificate, None, {"kind": kind, "number": number})
    return certificate


def change_records(
    ctx: Context, procedure: str, changes: dict[int, dict], school_id: int
) -> int | None:
    """`change_record` for a whole cohort: student id → changes, in a few bulk statements.

    One history row per student, one notice to the school, one audit entry listing the
    students. Returns how many records changed, None when this step already ran.
    """
    if StatusHistory.query.filter_by(instance_id=ctx.instance.id).first() is not None:
        return None
    if not changes:
        return 0
    columns = sorted({key for change in changes.values() for key in change})
    current = {
        row.id: row
        for start in range(0, len(changes), 500)
        for row in db.session.query(Student.id, *(getattr(Student, c) for c in columns)).filter(
            Student.id.in_(sorted(changes)[start : start + 500])
        )
    }
    user_id = getattr(ctx.user, "id", None)
    history = [
        {
            "student_id": sid,
            "procedure": procedure,
            "instance_id": ctx.instance.id,
            "before": _as_history({k: getattr(current[sid], k) for k in change}),
            "after": _as_history(change),
            "user_id": user_id,
            "at": utcnow(),
        }
        for sid, change in changes.items()
    ]
    db.session.execute(update(Student), [{"id": sid, **c} for sid, c in changes.items()])
    if {"school_id", "borrow_host_id"} & set(columns):
        ctx.rescope_students(changes)
    db.session.execute(insert(StatusHistory), history)
    _cohort_done(ctx, procedure, school_id, f"{len(changes)} 名学生的学籍已更新")
    audit(ctx.user, f"students.{procedure}", ctx.instance, None, {"students": sorted(changes)})
    db.session.flush()
    return len(changes)


def _cohort_done(ctx: Context, procedure: str, school_id: int, what: str) -> None:
    """One notice to the school for a whole cohort."""
    message = f"{procedure_name(procedure)}已办结：{what}（业务编号 {ctx.instance.id}）。"
    ctx.tell_school(school_id, "completed", message)


# The columns a new record's history row shows (before: nothing, the record did not exist).
CREATED_COLUMNS = ("status", "status_number", "school_id", "grade", "class_name")


def create_records(
    ctx: Context,
    procedure: str,
    records: list[dict],
    school_id: int,
    noted: list[dict] | None = None,
) -> int | None:
    """New students (column → value) for one school, in a few bulk statements.

    One history row per student (`noted[i]` adds facts to its "after"), one notice to the
    school, one audit entry listing the students. Returns how many records were created,
    None when this step already ran.
    """
    if StatusHistory.query.filter_by(instance_id=ctx.instance.id).first() is not None:
        return None
    if not records:
        return 0
    noted = noted or [{}] * len(records)
    created = db.session.execute(
        insert(Student).returning(Student.id, sort_by_parameter_order=True), records
    ).scalars()
    ids = list(created)
    ctx.rescope_students(ids)
    user_id, now = getattr(ctx.user, "id", None), utcnow()
    history = [
        {
            "student_id": sid,
            "procedure": procedure,
            "instance_id": ctx.instance.id,
            "before": {},
            "after": {**_as_history({k: record[k] for k in CREATED_COLUMNS}), **note},
            "user_id": user_id,
            "at": now,
        }
        for sid, record, note in zip(ids, records, noted, strict=True)
    ]
    db.session.execute(insert(StatusHistory), history)
    _cohort_done(ctx, procedure, school_id, f"已为 {len(ids)} 名学生建立学籍")
    audit(ctx.user, f"students.{procedure}", ctx.instance, None, {"created": ids})
    db.session.flush()
    return len(ids)
