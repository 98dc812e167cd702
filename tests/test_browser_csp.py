"""The tool's pages work under their own Content-Security-Policy: no inline script or style, nothing blocked."""
from __future__ import annotations

import pytest

from tests.browser import chromium
from tests.worksheet_client import forget

pytestmark = pytest.mark.browser

COLLECT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.mark.parametrize("person", ["u-learner-1", "u-instructor-1"])
def test_pages_work_under_the_csp(tool, person):
    forget(tool.app, person)
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script(COLLECT)
        page = context.new_page()
        console = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(f"{tool.base_url}/dev/lms/")
        page.locator("tr", has=page.get_by_text(person, exact=True)).get_by_role("link", name="Launch").first.click()
        frame = page.frame_locator("iframe#tool")
        if person == "u-learner-1":
            frame.locator("#rows-0-partnership").fill("Under the CSP")
            frame.locator("#add-row").click()
            frame.locator("#rows-1-partnership").wait_for()
            frame.locator("#save-status").filter(has_text="Saved").wait_for(timeout=15000)
        else:
            frame.get_by_role("link", name="Partnership map").click()
            frame.locator("#map-title").wait_for()
        tool_frame = next(f for f in page.frames if f.url.startswith(tool.base_url) and "/dev/lms" not in f.url)
        assert tool_frame.evaluate("window.__csp") == []
        assert not [m for m in console if "Content Security Policy" in m], console
        context.close()
