"""Blueprint: spreadsheet imports in the browser (upload, preview, 确认导入, progress) and
the template downloads."""

from flask import Blueprint

bp = Blueprint("importing", __name__)

from . import routes  # noqa: E402,F401
