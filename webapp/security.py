"""Headers and cookies for a platform on the open internet.

Pages carry personal data, so nothing is cached, framed, sniffed or sent on as a referrer;
scripts come only from our own static files (the CSP forbids inline script), and the
server does not name its software or version.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

# Nothing inline, styles included: the browser tests fail on any refusal (bpmn-js needs none).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SERVER_NAME = "xueji"


def init_app(app: Flask) -> None:
    proxies = app.config.get("PROXY_COUNT") or 0
    if proxies:  # else X-Forwarded-For is ignored: a client could claim any address with it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":  # every page and API answer may name a pupil
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its "Werkzeug/x.y Python/x.y" banner."""

    def version_string(self) -> str:
        return SERVER_NAME
