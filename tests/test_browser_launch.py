"""A person opens the practice LMS in Chromium, clicks Launch, and the tool's page appears in the course frame."""
from __future__ import annotations

import pytest

from tests.browser import chromium


@pytest.fixture(scope="module")
def page(tool):
    with chromium() as browser:
        context = browser.new_context()
        yield context.new_page()
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("person, role, name", [("u-learner-1", "learner", "Maya Chen"), ("u-instructor-1", "instructor", "Sam Rivera")])
def test_launch_from_course_page_shows_tool_in_frame(tool, page, tmp_path_factory, person, role, name, method):
    page.goto(f"{tool.base_url}/dev/lms/?method={method}")
    row = page.locator("tr", has=page.get_by_text(person, exact=True))
    row.get_by_role("link", name="Launch").first.click()
    frame = page.frame_locator("iframe#tool")
    frame.locator(f"[data-role={role}]").wait_for(timeout=15000)
    assert name in frame.locator(".person-name").inner_text()
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / f"launch-{role}-{method}.png"), full_page=True)
