"""Blueprint: instances."""

from flask import Blueprint

bp = Blueprint("instances", __name__)

from . import incidents, routes  # noqa: E402,F401
