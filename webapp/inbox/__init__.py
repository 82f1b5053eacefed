"""Blueprint: inbox."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from . import batch, routes  # noqa: E402,F401
