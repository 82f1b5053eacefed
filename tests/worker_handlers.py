"""Handlers that misbehave on purpose, for the background-worker tests.

The worker process loads this module through XUEJI_HANDLER_MODULES; what a handler did is
kept in files under XUEJI_TEST_DIR, because each try runs in a transaction that a failure
rolls back.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from handlers import Context, handler


def _marker(name: str) -> Path:
    return Path(os.environ["XUEJI_TEST_DIR"]) / name


@handler("test.flaky", tries=3)
def flaky(ctx: Context) -> dict:
    """Fails on its first two tries, then succeeds."""
    counter = _marker(f"flaky-{ctx.instance.id}")
    tries = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(tries))
    if tries <= 2:
        raise RuntimeError(f"第 {tries} 次调用失败（模拟外部系统超时）")
    return {"tries": tries}


@handler("test.broken", tries=2)
def broken(ctx: Context) -> dict:
    """Fails for as long as the file `broken` exists (the fault an admin fixes)."""
    if _marker("broken").exists():
        raise RuntimeError("外部系统不可用")
    return {"fixed": True}


@handler("test.slow")
def slow(ctx: Context) -> dict:
    """The first try hangs (the test kills the worker meanwhile); a later try is quick."""
    started = _marker(f"slow-{ctx.instance.id}")
    first = not started.exists()
    started.write_text(str(os.getpid()))
    if first:
        time.sleep(120)
    return {"first": first}


@handler("test.steady")
def steady(ctx: Context) -> dict:
    """Takes 7 s, longer than the tests' 3 s lease; counts its runs."""
    counter = _marker(f"steady-{ctx.instance.id}")
    runs = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(runs))
    time.sleep(7)
    return {"runs": runs}
