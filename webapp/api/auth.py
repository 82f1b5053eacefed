"""Bearer tokens for the API: signed with SECRET_KEY, valid 12 hours, bound to an active user
and to the user's session generation (logout, a password change or an admin revokes them)."""

from __future__ import annotations

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.extensions import db
from webapp.models import User

from ..json_errors import ApiError

TOKEN_HOURS = 12
_SALT = "xueji-api-token"
# Endpoints reachable without a token: signing in, and the API's own description.
PUBLIC_ENDPOINTS = {"api.token", "api.openapi"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "ep": user.session_epoch})


def user_from_token(token: str) -> User:
    """The active user the token names; ApiError 401 when it is forged, expired or stale."""
    try:
        payload = _serializer().loads(token, max_age=TOKEN_HOURS * 3600)
    except SignatureExpired as exc:
        raise ApiError(401, "登录令牌已过期，请重新获取。") from exc
    except BadSignature as exc:
        raise ApiError(401, "登录令牌无效。") from exc
    user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or not user.active:
        raise ApiError(401, "登录令牌对应的用户不存在或已停用。")
    if payload.get("ep") != user.session_epoch:
        raise ApiError(401, "登录令牌已失效（已退出登录、修改了密码或被管理员下线），请重新获取。")
    return user


def authenticate() -> None:
    """Run before every API view: put the token's user on `g.api_user` or answer 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "缺少登录令牌：请在 Authorization 头中使用 Bearer 令牌。",
            headers={"WWW-Authenticate": "Bearer"},
        )
    g.api_user = user_from_token(token.strip())


def current_user() -> User:
    return g.api_user
