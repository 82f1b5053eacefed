"""The JSON error every API answer uses: `{error: {code, message, fields?}}`, Chinese.

Outside the API blueprint, so that the sign-in throttle and the app's own error pages can
answer in this shape without importing the API's routes.
"""

from __future__ import annotations

import json

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from forms.parse_errors import located

from .models import db

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


def unreadable_body() -> str:
    """Why the request's body is not JSON, at its place (第 N 行第 M 列), for a body that
    `request.get_json(silent=True)` gave up on."""
    try:
        json.loads(request.get_data())
    except ValueError as exc:  # JSONDecodeError, or bytes in no encoding JSON allows
        return f"请求体无法解析，{located(exc)}。"
    return "请求体不是有效的 JSON。"  # JSON, but not sent as application/json


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


def http_error_json(exc: HTTPException) -> Response:
    """Also the app's answer to routing failures under /api/ (an id past the column type
    matches no rule, so no blueprint handler sees it)."""
    db.session.rollback()
    status = exc.code or 500
    code, message = HTTP_MESSAGES.get(status, (exc.name.lower().replace(" ", "_"), "请求失败。"))
    return error_response(status, code, message)
