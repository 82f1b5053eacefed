"""axe-core (node_modules/axe-core, from the npm registry) over the main pages in Chromium,
signed in as who uses them: no serious or critical violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .desk_pages import look_at_desk_pages
from .test_browser import browser, server  # noqa: F401  (fixtures)
from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")


def severe_violations(page) -> list[dict]:
    """Runs axe on the page as it stands; the violations of impact serious or critical."""
    # evaluated through the DevTools protocol, which the pages' CSP (no inline script) allows
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in found
        if v["impact"] in SEVERE
    ]


@pytest.mark.browser
def test_the_main_pages_have_no_serious_accessibility_violations(server, browser, csrf_world):  # noqa: F811
    assert AXE.exists(), "axe-core missing: run ./dev setup (npm ci)"
    report = look_at_desk_pages(
        browser, server, csrf_world, lambda desk, page: severe_violations(page)
    )
    signed_out = browser.new_page()
    signed_out.goto(f"{server}/login")
    if found := severe_violations(signed_out):
        report["登录 /login"] = found
    signed_out.close()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    assert report == {}
