"""The production web server: gunicorn with several worker processes.

Each worker builds its own app after the fork (no connection is shared across a fork).
Without Redis every worker runs the periodic scan's thread, and a lease in the database
lets one of them scan per interval, so a deployment scans once however many workers it
has. `kill -HUP <master>` restarts the workers gracefully (new code, no dropped request).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

from workflows import worker


def default_workers() -> int:
    """Two per core and one more: gunicorn's own advice for workers that wait on a database."""
    return 2 * (os.cpu_count() or 1) + 1


class Server(BaseApplication):
    def __init__(self, options: dict, factory: Callable[[], Flask]):
        self.options = options
        self.factory = factory
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        app = self.factory()
        worker.scan_in_web_process_without_redis(app)
        return app


def run(host: str, port: int, workers: int, factory: Callable[[], Flask]) -> None:
    """Serve the apps `factory` builds, one per worker process (the one the CLI was given)."""
    Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": 120,
            "graceful_timeout": 30,
            "max_requests": 0,
            "accesslog": os.environ.get("XUEJI_ACCESS_LOG") or None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "xueji",
        },
        factory,
    ).run()
