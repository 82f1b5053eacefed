"""Errors the engine reports to the web side, each with an HTTP status and a Chinese message."""

from __future__ import annotations


class EngineError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(EngineError):
    status = 404
    code = "not_found"


class Forbidden(EngineError):
    status = 403
    code = "forbidden"


class Conflict(EngineError):
    status = 409
    code = "conflict"


class Invalid(EngineError):
    status = 422
    code = "invalid"

    @classmethod
    def from_marshmallow(cls, messages: dict) -> Invalid:
        fields = {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}
        return cls("提交的数据有误，请检查标出的字段。", fields)


class Refused(Invalid):
    """A start (or a correction) the automatic checks refuse before anything is written:
    each refusal beside the form fields it names, the others above the form."""

    def __init__(
        self,
        refusals: list,
        message: str = "申请未通过自动检查，未创建业务，请按提示修改后再提交。",
    ):
        self.refusals = refusals
        fields: dict[str, list[str]] = {}
        for refusal in refusals:
            for name in refusal.fields or ("",):
                fields.setdefault(name, []).append(refusal.text)
        super().__init__(message, fields)
