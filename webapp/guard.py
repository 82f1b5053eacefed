"""Input no column or parser takes, refused before any view runs, naming the field.

PostgreSQL refuses NUL in text, a lone surrogate has no UTF-8 form, JSON nested
thousands deep overflows the parser, and an id past the 32-bit integer columns is a
database error rather than "no such row". Each is a 4xx here with a Chinese message, on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.routing import IntegerConverter

from forms.validators import text_problem

from .models import MAX_ID

MAX_PAGE = 1_000_000
MAX_DEPTH = 32  # no form nests deeper than a few levels


class BadInput(Exception):
    """One refused value: the field it came in (`data.rows[3].name`) and why, in Chinese."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(f"字段“{field}”{message}")
        self.field, self.message, self.status = field, message, status


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a number past MAX_ID matches no row, so the route answers
    404 as for any missing id instead of handing the database an overflow."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _check_text(field: str, value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise BadInput(field, problem)


def _check_name(where: str, name: str) -> None:
    """A bad field name is named by where it sits (echoing it could not be encoded)."""
    problem = text_problem(name)
    if problem:
        raise BadInput(where, f"中的字段名{problem}")


def check_json(payload) -> None:
    """Walk a parsed JSON body without recursion; keys and strings are checked as text."""
    stack = [("", payload, 1)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadInput(path or "请求体", f"JSON 嵌套不能超过 {MAX_DEPTH} 层。", 400)
        if isinstance(value, str):
            _check_text(path or "请求体", value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_name(path or "请求体", key)
                stack.append((f"{path}.{key}" if path else key, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))


def check_request() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(name, value)
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if isinstance(name, str):
                _check_name("请求参数", name)
                if isinstance(value, str):
                    _check_text(name, value)
    if request.is_json:
        try:
            payload = request.get_json(silent=True)
        except RecursionError:
            raise BadInput("请求体", f"JSON 嵌套不能超过 {MAX_DEPTH} 层。", 400) from None
        check_json(payload)


def _refused(exc: BadInput):
    """The page for a refused value (the API answers in JSON from its own handler)."""
    title = "提交的内容无法处理"
    return render_template("error.html", code=exc.status, title=title, message=str(exc)), exc.status


def init_app(app: Flask) -> None:
    """Before any blueprint is registered, so every `<int:…>` rule gets the bound."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)
    app.register_error_handler(BadInput, _refused)
