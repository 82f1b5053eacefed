"""Blueprint: students."""

from flask import Blueprint

bp = Blueprint("students", __name__)

from . import resumptions, routes  # noqa: E402,F401
