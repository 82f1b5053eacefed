"""`GET /healthz`: is this web process able to serve (database, and Redis when set up)?

For a load balancer or a supervisor: 200 when every configured service answers, 503 when
one does not. It needs no sign-in and says nothing but "ok", "off" or "down".
"""

from __future__ import annotations

from flask import Blueprint, current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        db.session.rollback()
        return "down"


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "off"
    try:
        Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        return "ok"
    except RedisError:
        return "down"


@bp.get("/healthz")
def healthz():
    body = {"db": _database(), "redis": _redis()}
    return body, 503 if "down" in body.values() else 200
