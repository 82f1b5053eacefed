"""Student records in the user's jurisdiction: a searchable list and one record."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required

from handlers.school_rules import status_allows
from webapp.models.vocabulary import PROCEDURES
from workflows import jurisdiction
from workflows.starters import may_start_for

from .. import exports, finding, lists, saved_filters, sheets
from ..models import HostedCopy, Instance, Result, Student
from ..views_common import describe_change, paginate
from . import bp

# Two-sided procedures are entered by the school that takes the student in.
OTHER_SIDE_NOTES = {
    "transfer": "由转入学校按学生身份证号和姓名发起。",
    "borrow": "由借读学校按学生身份证号和姓名发起。",
}


@bp.route("/students")
@login_required
def index():
    """Records in reach, searchable by ID number, name or status number, filtered by
    grade, class and status."""
    args = finding.load(finding.StudentFilters, request.args)
    query = finding.students(current_user, args).options(*lists.STUDENT_ROWS)
    # A school reads its few hundred records by grade and class, students borrowing here
    # first; a bureau's list, which may hold a million, follows its index.
    if current_user.role == "school":
        own = Student.school_id == current_user.org_id
        query = query.order_by(own, Student.grade, Student.class_name, Student.id)
    else:
        query = query.order_by(Student.id)
    page = paginate(query)
    # Borrowing students at a school in reach whose status is held elsewhere.
    borrowing_here = {s.id for s in page.items if not jurisdiction.holds_status(current_user, s)}
    return render_template(
        "students/index.html",
        page=page,
        q=args["q"].strip(),
        filters=args,
        borrowing_here=borrowing_here,
        saved=saved_filters.for_page(current_user, "students"),
    )


@bp.route("/students/export")
@login_required
def export():
    """The whole filtered list as a file (not one page): Excel, CSV or the national template."""
    fmt, layout = sheets.student_format(request.args.get("format", "xlsx"))
    args = finding.load(finding.StudentFilters, request.args)
    sheet = sheets.students(finding.students(current_user, args), layout)
    filters = {**finding.export_filters(args), "layout": layout}
    return exports.download(fmt, sheet, current_user, filters)


@bp.route("/students/<int:student_id>")
@login_required
def detail(student_id: int):
    """One record: identity, school, status, certificates, history, procedures to start."""
    student = jurisdiction.student_or_none(current_user, student_id)
    if student is None:
        copy = jurisdiction.hosted_copy_or_none(current_user, student_id)
        if copy is None:
            abort(404)
        return _hosted_copy(copy)
    history = [(row, describe_change(row.before or {}, row.after or {})) for row in student.history]
    instances = (
        jurisdiction.instances(current_user)
        .filter(Instance.student_id == student.id)
        .order_by(Instance.created_at.desc(), Instance.id.desc())
        .all()
    )
    return render_template(
        "students/detail.html",
        student=student,
        history=history,
        instances=instances,
        startable=_startable(student),
        holds_status=jurisdiction.holds_status(current_user, student),
    )


def _hosted_copy(copy: HostedCopy) -> str:
    """The record a school hosted, as it stood when the borrowing ended: read only, with the
    results kept in the school's name; nothing may be started from it."""
    results = (
        Result.query.filter(Result.student_id == copy.student_id, Result.school_id == copy.host_id)
        .order_by(Result.term, Result.id)
        .all()
    )
    return render_template("students/hosted_copy.html", copy=copy, results=results)


def _startable(student: Student) -> list[tuple]:
    """(procedure, url, note) for every procedure the user may start from this record."""
    out = []
    for proc in PROCEDURES.values():
        if proc.starter_role != current_user.role:
            continue
        if proc.two_sided:
            url = (
                url_for("instances.new_transfer")
                if proc.key == "transfer"
                else url_for("instances.new_other_side", procedure=proc.key)
            )
            out.append((proc, url, OTHER_SIDE_NOTES.get(proc.key, "")))
        elif may_start_for(current_user, proc.key, student) and status_allows(proc.key, student):
            url = url_for("instances.start_for_student", student_id=student.id, procedure=proc.key)
            out.append((proc, url, ""))
    return out
