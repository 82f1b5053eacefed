"""复学 for several students in one go (issue 16 point 3): a school picks, from its
suspended students whose suspension has ended, those returning on one date with one set of
papers; each gets its own application (`workflows.batch.start_resumptions`, one
transaction each) and the page reports per student."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from forms import FORMS
from workflows import batch

from ..extensions import db
from ..models import MAX_ID
from ..views_common import paginate, submitted
from . import bp

# What the students share; the grade and class are each one's own (the default rule).
SHARED = ("resume_date", "note", "evidence")


@bp.route("/students/resumptions", methods=["GET", "POST"])
@login_required
def resumptions():
    """GET: the school's students whose suspension has ended, to tick; POST: a 复学
    application for each ticked one, then the report."""
    if current_user.role != "school":
        abort(403)
    fields = [f for f in FORMS["resumption_apply"].fields if f.name in SHARED]
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        ids = [i for i in request.form.getlist("student_ids", type=int) if 0 < i <= MAX_ID]
        data, errors = submitted(fields, current_user)
        if not ids:
            errors["student_ids"] = ["请勾选要复学的学生。"]
        if not data.get("evidence"):
            errors.setdefault("evidence", ["请上传证明材料（各生共用）。"])
        if not errors:
            db.session.commit()  # the shared papers, kept whichever starts are refused
            report = batch.start_resumptions(ids, current_user, data)
            return render_template("students/resumptions_report.html", report=report)
        db.session.rollback()
    page = paginate(batch.resumable_students(current_user))
    return render_template(
        "students/resumptions.html",
        page=page,
        fields=fields,
        values=request.form,
        errors=errors,
    ), (422 if errors else 200)
