"""Blueprint: students."""

from flask import Blueprint

bp = Blueprint("students", __name__)

from . import routes  # noqa: E402,F401
