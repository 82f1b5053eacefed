"""Batch approval in the browser (issue 16 point 3): tasks of one step picked on the inbox,
one decision and one comment, a confirmation page, then a report per task. The engine side
is `workflows.batch.complete_many`, which the API shares."""

from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms import FORMS
from workflows import batch
from workflows.errors import Invalid

from ..models import MAX_ID
from ..views_common import form_data
from . import bp

# What one decision for many may say: the step's own decision (同意, or 退回 where its form
# offers it), a comment, the documents asked for on a return. Anything else is per case.
BATCH_FIELDS = ("decision", "comment", "requested_documents")
BATCH_DECISIONS = ("approve", "return")


def batch_fields(form_key: str):
    """The step's form fields a batch fills, the decision limited to 同意 / 退回; None when
    the step is no review (it has no 同意) or needs something per case."""
    spec = FORMS[form_key]
    names = {f.name for f in spec.fields}
    if "decision" not in names or any(
        f.required and f.name not in BATCH_FIELDS for f in spec.fields
    ):
        return None
    fields = []
    for f in spec.fields:
        if f.name == "decision":
            choices = tuple(c for c in f.choices if c[0] in BATCH_DECISIONS)
            if not any(key == "approve" for key, _ in choices):
                return None
            f = replace(f, choices=choices)
        if f.name in BATCH_FIELDS:
            fields.append(f)
    return fields


def _selected() -> list[int]:
    ids = request.values.getlist("task_ids", type=int)
    return [i for i in ids if 0 < i <= MAX_ID]


@bp.route("/tasks/batch", methods=["GET", "POST"])
@login_required
def batch_complete():
    """GET: the picked tasks and the one form (a confirmation before anything is done);
    POST: complete each, then the report."""
    ids = _selected()
    back = redirect(url_for("inbox.index"))
    if not ids:
        flash("请先在待办列表中勾选要批量办理的任务。", "error")
        return back
    try:
        rows = batch.reachable_tasks(batch._distinct(ids, "task_ids"), current_user)
        sample = batch.one_step(rows.values())
    except Invalid as exc:
        flash(exc.message, "error")
        return back
    fields = batch_fields(sample.form_key) if sample else None
    if fields is None:
        flash("所选步骤需要逐件办理，不能批量办理。" if sample else batch.NOT_FOUND, "error")
        return back
    tasks = [rows[i] for i in ids if i in rows]
    values, errors = {}, {}
    if request.method == "POST":
        values = form_data([f.name for f in fields])
        try:
            report = batch.complete_many(ids, current_user, values)
        except Invalid as exc:
            errors = exc.fields or {"decision": [exc.message]}
        else:
            return _report(report, rows)
    return render_template(
        "inbox/batch.html", tasks=tasks, sample=sample, fields=fields, values=values, errors=errors
    ), (422 if errors else 200)


def _report(report, rows):
    """The per-task result page: what was done, what was refused and why."""
    done = sum(o.status == "done" for o in report)
    lines = [(o, rows.get(o.item_id)) for o in report]
    return render_template("inbox/batch_report.html", lines=lines, done=done, total=len(report))
