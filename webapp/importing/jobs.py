"""Import jobs: an uploaded file is checked (nothing written), shown, and on 确认导入
written in one transaction — on the RQ worker when Redis is configured, inline otherwise.

The write's progress goes onto the job's row through a connection of its own, committed as
it goes, so the page can poll it while the import's own transaction stays uncommitted (all
or nothing). The worker finds the job by name (`RUN_JOB`): the engine never imports the web.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from sqlalchemy import update

from forms.error_copy import annotated_copy
from forms.spreadsheets import RowError
from workflows import producer, worker

from ..extensions import db
from ..imports import check_import, run_import
from ..models import IMPORT_KINDS, ImportJob, User, utcnow
from ..uploads import MAX_BYTES, MAX_NAME

RUN_JOB = "webapp.importing.jobs.run_job"
SUFFIXES = (".xlsx", ".xls", ".csv")
KIND_LABELS = {"students": "学生名单", "orgs": "组织机构", "results": "学业成绩"}
STATUS_LABELS = {"checked": "待确认", "running": "导入中", "done": "已完成", "failed": "失败"}
INTERNAL = "导入时发生内部错误，未写入任何数据；请稍后重试或联系管理员。"
QUEUE_DOWN = "后台任务队列暂时不可用，未写入任何数据；请稍后重新上传。"
log = logging.getLogger(__name__)


class ImportRefused(ValueError):
    """A request that cannot become a job (no file, wrong kind …): `field` and a Chinese message."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class ImportConflict(ValueError):
    """确认导入 refused: the file has problems, or the job was confirmed already."""


def allowed_kinds(user: User) -> tuple[str, ...]:
    """Everyone imports the students of the schools in reach; the organisation list and
    results are the platform administrator's."""
    return IMPORT_KINDS if user.role == "admin" else ("students",)


def job_or_none(user: User, job_id: int) -> ImportJob | None:
    """One's own jobs only: another user's is answered as absent."""
    return ImportJob.query.filter_by(id=job_id, user_id=user.id).one_or_none()


def recent_jobs(user: User, limit: int = 10) -> list[ImportJob]:
    return (
        ImportJob.query.filter_by(user_id=user.id).order_by(ImportJob.id.desc()).limit(limit).all()
    )


def create(user: User, kind: str, filename: str, data: bytes) -> ImportJob:
    """Check the file and keep it as a job in status `checked`; nothing of it is written."""
    kinds = allowed_kinds(user)
    if kind not in kinds:
        names = "、".join(f"{k}（{KIND_LABELS[k]}）" for k in kinds)
        raise ImportRefused("kind", f"导入类型应为 {names}，实为“{kind}”。")
    name = PurePath((filename or "").replace("\\", "/")).name
    if not name or not data:
        raise ImportRefused("file", "请选择要导入的文件（.xlsx、.xls 或 .csv）。")
    if len(data) > MAX_BYTES:
        raise ImportRefused("file", f"文件不能超过 {MAX_BYTES // (1024 * 1024)} MB。")
    if len(name) > MAX_NAME:
        raise ImportRefused("file", f"文件名不能超过 {MAX_NAME} 个字符，请改短后重新上传。")
    if PurePath(name).suffix.lower() not in SUFFIXES:
        raise ImportRefused("file", f"“{name}”不是 .xlsx、.xls 或 .csv 文件。")
    result = check_import(kind, data, name, user)
    problems = result.errors
    job = ImportJob(
        kind=kind,
        filename=name,
        content=data,
        org_id=user.org_id,
        user_id=user.id,
        status="checked",
        progress=0.0,
        rows=result.rows,
        written=0,
        problems=[_problem(e) for e in sorted(problems, key=_order)],
        ignored_columns=list(result.ignored_columns),
    )
    db.session.add(job)
    db.session.commit()
    return job


def _order(error: RowError) -> tuple[int, str]:
    return (error.row or 0, error.field)


def _problem(error: RowError) -> dict:
    return {"row": error.row, "column": error.field, "message": error.message}


def problems_of(job: ImportJob) -> list[RowError]:
    return [RowError(p["row"], p["column"], p["message"]) for p in job.problems]


def error_copy(job: ImportJob) -> bytes:
    """The uploaded file as .xlsx with 错误说明 on the rows to fix."""
    return annotated_copy(job.content, job.filename, problems_of(job))


def confirm(job: ImportJob) -> None:
    """确认导入: mark the job running (once: a second confirm is refused) and run it."""
    if job.problems:
        raise ImportConflict(
            f"文件中有 {len(job.problems)} 处问题，不能导入：请下载错误标注文件，改正后重新上传。"
        )
    taken = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.status == "checked")
        .values(status="running", progress=0.0)
    ).rowcount
    db.session.commit()
    if not taken:
        raise ImportConflict(f"该导入已确认过（{STATUS_LABELS[job.status]}），不能重复导入。")
    if not producer.enabled():
        execute(job.id)
        return
    try:
        producer.queue().enqueue(RUN_JOB, job.id, job_id=f"xueji-import-{job.id}", job_timeout=3600)
    except Exception:  # Redis down: say so on the job rather than leave it running
        log.exception("could not queue import job %s", job.id)
        _fail(job.id, [RowError(None, "", QUEUE_DOWN)])


def run_job(job_id: int) -> str:
    """The worker's entry point (queued by name)."""
    return worker.in_app(execute, job_id)


def execute(job_id: int) -> str:
    """Write the job's file in one transaction; the job ends done, or failed with why."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "running":
        db.session.rollback()
        return "nothing to do"
    kind, data, filename, user = job.kind, job.content, job.filename, job.user
    try:
        result = run_import(kind, data, filename, user, _Progress(job_id))
    except Exception:
        log.exception("import job %s failed", job_id)
        db.session.rollback()
        return _fail(job_id, [RowError(None, "", INTERNAL)])
    if result.errors:
        db.session.rollback()
        return _fail(job_id, result.errors)
    job = db.session.get(ImportJob, job_id)
    job.status, job.progress, job.finished_at = "done", 1.0, utcnow()
    job.written = result.created + result.updated
    db.session.commit()  # the rows and the job's end together
    return "done"


def _fail(job_id: int, errors: list[RowError]) -> str:
    job = db.session.get(ImportJob, job_id)
    job.status, job.finished_at = "failed", utcnow()
    job.problems = [_problem(e) for e in sorted(errors, key=_order)]
    db.session.commit()
    return "failed"


class _Progress:
    """`progress(done, total)` → the job's row, on its own connection, at most every 1 %.

    SQLite lets one writer in at a time and the import holds it, so there progress is only
    known at the end; PostgreSQL (any deployment with a worker) shows it as it goes."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.shown = 0.0
        self.live = db.engine.dialect.name != "sqlite"

    def __call__(self, done: int, total: int | None) -> None:
        if not self.live or not total:
            return
        fraction = min(done / total, 0.99)  # 1.0 when the import has committed
        if fraction - self.shown < 0.01:
            return
        self.shown = fraction
        with db.engine.begin() as connection:
            connection.execute(
                update(ImportJob).where(ImportJob.id == self.job_id).values(progress=fraction)
            )
