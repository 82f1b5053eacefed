"""Blueprint: the platform operator's pages (平台管理): regional variants and their test bench."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401
