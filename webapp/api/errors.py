"""JSON errors for /api/v1: always `{error: {code, message, fields?}}` with a Chinese message.

Routing failures (unknown path, wrong method) never reach a blueprint's handlers, so the
blueprint ends in a catch-all route (see routes.py) that answers them through `ApiError`.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webapp.extensions import db
from webapp.guard import BadInput
from workflows.errors import EngineError, Invalid

from . import bp

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式错误。"),
    401: ("unauthorized", "未登录或登录已过期，请重新获取令牌。"),
    403: ("forbidden", "无权执行此操作。"),
    404: ("not_found", "请求的资源不存在或不在您的管辖范围内。"),
    405: ("method_not_allowed", "该地址不支持此请求方法。"),
    409: ("conflict", "操作冲突，请刷新后重试。"),
    415: ("unsupported_media_type", "请求体必须是 JSON。"),
    422: ("invalid", "提交的数据有误，请检查标出的字段。"),
    500: ("internal_error", "服务器内部错误，请稍后重试或联系管理员。"),
}


class ApiError(Exception):
    """An error raised by the API layer itself (auth, routing, request shape)."""

    def __init__(
        self, status: int, message: str | None = None, fields: dict | None = None, headers=None
    ):
        code, default = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400])
        super().__init__(message or default)
        self.status, self.code, self.message = status, code, message or default
        self.fields, self.headers = fields, headers or {}


def error_response(
    status: int, code: str, message: str, fields: dict | None = None, headers=None
) -> Response:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    resp = jsonify({"error": body})
    resp.status_code = status
    resp.headers.update(headers or {})
    return resp


def invalid_fields(messages: dict) -> Invalid:
    """A marshmallow error dict as the engine's Invalid, so both answer the same way."""
    return Invalid.from_marshmallow(messages)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


@bp.errorhandler(EngineError)
def _engine_error(exc: EngineError) -> Response:
    db.session.rollback()
    wait = getattr(exc, "retry_after", None)  # a throttled start says how long to wait
    headers = {"Retry-After": str(wait)} if wait else None
    return error_response(exc.status, exc.code, exc.message, exc.fields, headers)


@bp.errorhandler(ValidationError)
def _validation_error(exc: ValidationError) -> Response:
    db.session.rollback()
    err = invalid_fields(exc.normalized_messages())
    return error_response(err.status, err.code, err.message, err.fields)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    # The only large bodies are uploads; over the limit is the same refusal as any bad file.
    return error_response(
        422, "invalid", "文件不能超过 10 MB。", {"file": ["文件不能超过 10 MB。"]}
    )


@bp.errorhandler(BadInput)
def _bad_input(exc: BadInput) -> Response:
    db.session.rollback()
    code = "invalid" if exc.status == 422 else "bad_request"
    return error_response(exc.status, code, str(exc), {exc.field: [exc.message]})


@bp.errorhandler(HTTPException)
def http_error_json(exc: HTTPException) -> Response:
    """Also the app's answer to routing failures under /api/ (an id past the column type
    matches no rule, so no blueprint handler sees it)."""
    db.session.rollback()
    status = exc.code or 500
    code, message = HTTP_MESSAGES.get(status, (exc.name.lower().replace(" ", "_"), "请求失败。"))
    return error_response(status, code, message)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    db.session.rollback()
    current_app.logger.exception("API 请求出错")
    code, message = HTTP_MESSAGES[500]
    return error_response(500, code, message)
