"""Headless Chromium (Debian's package) driven by Playwright, for tests a person would click through."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

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
