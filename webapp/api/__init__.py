"""The JSON API (/api/v1): token auth, JSON errors, OpenAPI document."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import actions, batch, errors, imports, openapi, routes  # noqa: E402,F401
