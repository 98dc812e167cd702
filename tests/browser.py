"""Headless Chromium (Debian's package) driven by Playwright, for tests a person would click through."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Any

from tests.services import skip_or_fail

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and os.path.exists(path) else None


@contextmanager
def chromium(**launch_kwargs):
    """A Playwright browser on the system Chromium; skips (fails in CI) when there is none."""
    path = chromium_path()
    if path is None:
        skip_or_fail("Chromium not found (install Debian's chromium package or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS + launch_kwargs.pop("args", []), **launch_kwargs)
        try:
            yield browser
        finally:
            browser.close()


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return results.response["violations"]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_accessible(page, state: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) in the {state} state:\n{describe(violations)}"


# Chromium's switch for the third-party cookie phase-out: cookies of a site framed by another site are
# blocked unless they are partitioned (CHIPS), as in Chrome with third-party cookies blocked.
BLOCK_THIRD_PARTY_COOKIES = ["--test-third-party-cookie-phaseout"]


@contextmanager
def chromium_without_third_party_cookies(*, ignore_certificate_errors: bool = True, args: list[str] | None = None):
    """A Playwright browser that blocks third-party cookies (partitioned ones still work), for a tool
    and an LMS on different sites; by default it accepts the self-signed certificate of a test server."""
    extra = list(BLOCK_THIRD_PARTY_COOKIES)
    if ignore_certificate_errors:
        extra.append("--ignore-certificate-errors")
    # "localhost" straight to the IPv4 loopback, where the test server listens.
    extra.append("--host-resolver-rules=MAP localhost 127.0.0.1")
    with chromium(args=extra + list(args or [])) as browser:
        yield browser
