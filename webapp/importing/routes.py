"""The import pages: upload → preview (every problem on its row) → 确认导入 → progress →
done; the error-marked copy and the blank templates. Only one's own jobs are reachable."""

from __future__ import annotations

import io

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from forms.sheet_templates import LAYOUTS, template_workbook

from ..uploads import MAX_BYTES
from . import bp, jobs

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAMES = {
    "national": "学生信息导入模板（国家模板）.xlsx",
    "xueji": "学生名单导入模板（本平台）.xlsx",
}


def _own_job(job_id: int):
    job = jobs.job_or_none(current_user, job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/imports", methods=["GET", "POST"])
@login_required
def index():
    """The upload form (with the template downloads) and one's recent imports."""
    kinds = jobs.allowed_kinds(current_user)
    error = None
    if request.method == "POST":
        sent = request.files.get("file")
        try:
            job = jobs.create(
                current_user,
                request.form.get("kind", "students"),
                sent.filename if sent else "",
                sent.read(MAX_BYTES + 1) if sent else b"",
            )
        except jobs.ImportRefused as exc:
            error = str(exc)
        else:
            return redirect(url_for("importing.job", job_id=job.id))
    return render_template(
        "importing/index.html",
        kinds=kinds,
        labels=jobs.KIND_LABELS,
        statuses=jobs.STATUS_LABELS,
        recent=jobs.recent_jobs(current_user),
        error=error,
    ), (422 if error else 200)


@bp.route("/imports/<int:job_id>")
@login_required
def job(job_id: int):
    """Preview while checked; progress while running; the outcome when done or failed."""
    job = _own_job(job_id)
    return render_template(
        "importing/job.html",
        job=job,
        labels=jobs.KIND_LABELS,
        statuses=jobs.STATUS_LABELS,
    )


@bp.route("/imports/<int:job_id>/confirm", methods=["POST"])
@login_required
def confirm(job_id: int):
    job = _own_job(job_id)
    try:
        jobs.confirm(job)
    except jobs.ImportConflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("importing.job", job_id=job_id)), 303
    return redirect(url_for("importing.job", job_id=job_id)), 303


@bp.route("/imports/<int:job_id>/progress")
@login_required
def job_progress(job_id: int):
    """What the progress bar polls."""
    job = _own_job(job_id)
    return jsonify(
        {"status": job.status, "progress": job.progress, "written": job.written, "rows": job.rows}
    )


@bp.route("/imports/<int:job_id>/errors.xlsx")
@login_required
def error_copy(job_id: int):
    """下载错误标注文件: the user's own sheet with 错误说明 on the rows to fix."""
    job = _own_job(job_id)
    stem = job.filename.rsplit(".", 1)[0]
    return send_file(
        io.BytesIO(jobs.error_copy(job)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"{stem}（错误标注）.xlsx",
    )


@bp.route("/imports/templates/<layout>.xlsx")
@login_required
def template(layout: str):
    if layout not in LAYOUTS:
        abort(404)
    return send_file(
        io.BytesIO(template_workbook(layout)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=TEMPLATE_NAMES[layout],
    )
