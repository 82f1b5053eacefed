"""Blueprint: overdue steps in a supervising bureau's area (逾期督办)."""

from flask import Blueprint

bp = Blueprint("overdue", __name__)

from . import routes  # noqa: E402,F401
