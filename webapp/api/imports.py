"""API imports: POST /imports checks a file and writes nothing (201 with the problems);
POST /imports/<id>/confirm writes it (202; RQ when Redis is configured, inline otherwise);
GET /imports/<id> tells status and progress. A user reaches only their own imports."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields

from ..importing import jobs
from ..json_errors import ApiError
from ..models import IMPORT_KINDS, IMPORT_STATUSES
from ..uploads import MAX_BYTES
from . import bp
from .auth import current_user


class ProblemOut(Schema):
    row = fields.Integer(
        allow_none=True,
        metadata={"description": "表格行号（列名行为第 1 行）；整个文件的问题为 null"},
    )
    column = fields.String(metadata={"description": "列名，按文件中的写法"})
    message = fields.String()


class ImportOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(IMPORT_KINDS)})
    filename = fields.String()
    status = fields.String(metadata={"enum": list(IMPORT_STATUSES)})
    progress = fields.Float(metadata={"description": "0–1"})
    rows = fields.Integer(metadata={"description": "文件中的数据行数"})
    written = fields.Integer(metadata={"description": "已写入（新建或更新）的行数"})
    problems = fields.List(fields.Nested(ProblemOut))
    ignored_columns = fields.List(
        fields.String(), metadata={"description": "文件中本平台不保存的列"}
    )


def _own(job_id: int):
    job = jobs.job_or_none(current_user(), job_id)
    if job is None:
        raise ApiError(404)
    return job


@bp.post("/imports")
def create_import():
    sent = request.files.get("file")
    kind = request.form.get("kind", "")
    if not kind:
        raise ApiError(
            400, "缺少导入类型（字段 kind）。", {"kind": ["应为 students、orgs 或 results。"]}
        )
    if sent is None or not sent.filename:
        raise ApiError(400, "请选择要导入的文件（字段 file）。", {"file": ["请选择要导入的文件。"]})
    try:
        job = jobs.create(current_user(), kind, sent.filename, sent.read(MAX_BYTES + 1))
    except jobs.ImportRefused as exc:
        raise ApiError(400, str(exc), {exc.field: [str(exc)]}) from exc
    return ImportOut().dump(job), 201


@bp.post("/imports/<int:job_id>/confirm")
def confirm_import(job_id: int):
    job = _own(job_id)
    try:
        jobs.confirm(job)
    except jobs.ImportConflict as exc:
        raise ApiError(409, str(exc)) from exc
    job = _own(job_id)
    return {"id": job.id, "status": job.status}, 202


@bp.get("/imports/<int:job_id>")
def get_import(job_id: int):
    return ImportOut().dump(_own(job_id))


def _errors(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


_JOB_ID = {"in": "path", "name": "job_id", "required": True, "schema": {"type": "integer"}}
_IMPORT = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportOut"}}}}
OUTPUT_SCHEMAS = (ImportOut,)
OPERATIONS = {
    "api.create_import": (
        "post",
        {
            "summary": "上传并检查导入文件（.xlsx、.xls、.csv），不写入任何数据",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "kind": {"type": "string", "enum": list(IMPORT_KINDS)},
                            },
                            "required": ["file", "kind"],
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "已检查（status 为 checked），problems 逐行列出问题",
                    **_IMPORT,
                },
                **_errors("400", "401", "422"),
            },
        },
    ),
    "api.confirm_import": (
        "post",
        {
            "summary": "确认导入：在一个事务中写入（配置 Redis 时由后台任务执行）",
            "parameters": [_JOB_ID],
            "responses": {
                "202": {
                    "description": "{id, status}",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "status": {"type": "string", "enum": list(IMPORT_STATUSES)},
                                },
                            }
                        }
                    },
                },
                **_errors("401", "404", "409"),
            },
        },
    ),
    "api.get_import": (
        "get",
        {
            "summary": "导入的状态、进度（0–1）、已写入行数与问题",
            "parameters": [_JOB_ID],
            "responses": {"200": {"description": "导入", **_IMPORT}, **_errors("401", "404")},
        },
    ),
}
