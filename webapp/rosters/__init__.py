"""Blueprint: cohort procedures in the browser (submit a cohort, the roster, its download)."""

from flask import Blueprint

bp = Blueprint("rosters", __name__)

from . import routes  # noqa: E402,F401
