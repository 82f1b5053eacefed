"""Blueprint: the platform operator's pages (平台管理): regional variants and their test bench;
process models (the modeler, versions, migration of running instances); accounts; the
rule list."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import audit, process_models, routes, rules, users  # noqa: E402,F401
