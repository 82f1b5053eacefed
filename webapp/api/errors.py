"""JSON errors for /api/v1: always `{error: {code, message, fields?}}` with a Chinese message.

Routing failures (unknown path, wrong method) never reach a blueprint's handlers, so the
blueprint ends in a catch-all route (see routes.py) that answers them through `ApiError`.
"""

from __future__ import annotations

from flask import Response, current_app
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webapp.exports import BadFormat
from webapp.extensions import db
from webapp.guard import BadInput
from workflows.errors import EngineError, Invalid

from ..json_errors import HTTP_MESSAGES, ApiError, error_response, http_error_json
from . import bp


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


@bp.errorhandler(BadFormat)
def _bad_format(exc: BadFormat) -> Response:
    return error_response(400, "bad_request", exc.message, {"format": [exc.message]})


bp.register_error_handler(HTTPException, http_error_json)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    db.session.rollback()
    current_app.logger.exception("API 请求出错")
    code, message = HTTP_MESSAGES[500]
    return error_response(500, code, message)
