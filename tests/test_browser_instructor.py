"""An instructor in Chromium: the class dashboard in the course frame, one learner's worksheet, the
partnership map; axe-core finds no WCAG 2.1 A/AA violation on them."""
from __future__ import annotations

import pytest

from tests.browser import assert_accessible, chromium
from tests.worksheet_client import Learner, complete_data, forget, row

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def submitted_class(tool):
    for sub, name in (("u-learner-1", "Public Radio Station"), ("u-learner-2", "public radio station.")):
        forget(tool.app, sub)
        learner = Learner.launch(tool.base_url, sub)
        data = complete_data()
        data["rows"] = [row(name, f"Strength from {sub}", "Weak", "Improve", "formal")]
        assert learner.autosave(data, None, action="submit").status_code == 200


@pytest.fixture(scope="module")
def page(tool, submitted_class):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        yield context.new_page()
        context.close()


def test_instructor_walks_through_the_class(tool, page, tmp_path_factory):
    page.goto(f"{tool.base_url}/dev/lms/")
    page.locator("tr", has=page.get_by_text("u-instructor-1", exact=True)).get_by_role("link", name="Launch").first.click()
    frame = page.frame_locator("iframe#tool")
    frame.locator("#class-table").wait_for(timeout=15000)
    assert frame.locator('tr[data-sub="u-learner-1"]').get_attribute("data-status") == "submitted"
    assert frame.locator('tr[data-sub="u-learner-2"]').get_attribute("data-status") == "submitted"
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "instructor-dashboard.png"), full_page=True)

    frame.get_by_role("link", name="Maya Chen").click()
    frame.locator(".learner-view").wait_for()
    assert "Strength from u-learner-1" in frame.locator(".ws-readonly").first.inner_text()

    frame.get_by_role("link", name="Partnership map").click()
    group = frame.locator('article.partnership[data-key="public radio station"]')
    group.wait_for()
    assert "2 learners named it" in group.inner_text()
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "instructor-map.png"), full_page=True)


@pytest.mark.parametrize("where", ["dashboard", "learner", "map", "filtered"])
def test_instructor_pages_are_accessible(tool, page, where):
    frame_url = _tool_url(tool, page)
    page.goto(frame_url)
    if where == "learner":
        page.get_by_role("link", name="Maya Chen").click()
        page.locator(".learner-view").wait_for()
    elif where == "map":
        page.get_by_role("link", name="Partnership map").click()
        page.locator("article.partnership").first.wait_for()
    elif where == "filtered":
        page.locator('#counts a[data-status="submitted"]').click()
        page.locator("#class-table").wait_for()
    assert_accessible(page, f"instructor {where}")


def _tool_url(tool, page) -> str:
    """The instructor's page opened directly (top level), as axe needs it."""
    page.goto(f"{tool.base_url}/dev/lms/")
    page.locator("tr", has=page.get_by_text("u-instructor-1", exact=True)).get_by_role("link", name="Launch").first.click()
    frame = page.frame_locator("iframe#tool")
    frame.locator("#class-table").wait_for(timeout=15000)
    return page.locator("iframe#tool").evaluate("f => f.contentWindow.location.href")
