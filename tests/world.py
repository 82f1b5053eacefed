"""The tests' world is the test bench's world (workflows/testbench/world.py), with a password
every user signs in with and birth dates counted from 2026 whatever the clock says."""

from __future__ import annotations

from itertools import count

from webapp.models import User
from workflows.testbench.world import World
from workflows.testbench.world import build_world as _build_world

__all__ = ["PASSWORD", "SECRET_KEY", "World", "build_world"]

PASSWORD = "pw-123456"
# The test apps' key: as long as a deployment's must be (32 bytes or more).
SECRET_KEY = "test-secret-key-of-at-least-32-bytes"
_HASH: dict[str, str] = {}
_seq = count(1)  # one sequence for the whole session: no two worlds share an ID number


def _password_hash() -> str:
    if "hash" not in _HASH:
        user = User()
        user.set_password(PASSWORD)
        _HASH["hash"] = user.password_hash
    return _HASH["hash"]


def build_world() -> World:
    """泰州市 (3212) with 海陵区 (321202) and 高港区 (321203); 扬州市 (3210) with 广陵区 (321002)."""
    return _build_world(year=2026, password_hash=_password_hash(), serial=_seq)
