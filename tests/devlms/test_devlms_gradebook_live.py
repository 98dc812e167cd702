"""The gradebook page updates itself from the JSON API (a static script, no inline script),
stays usable without scripts (a reload link), and is labelled for assistive technology."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from devlms_helpers import scores_url

from tests.browser import chromium


def gradebook(lms) -> BeautifulSoup:
    response = lms.http.get(lms.url + "/gradebook", timeout=10)
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def test_page_loads_a_static_script_and_has_no_inline_script(lms):
    page = gradebook(lms)
    scripts = page.find_all("script")
    assert scripts and all(s.get("src") and not s.string for s in scripts)
    src = scripts[0]["src"]
    assert src == "/dev/lms/static/gradebook.js"
    script = lms.http.get(lms.base + src, timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert "dataset.gradebookUrl" in script.text and "innerHTML" not in script.text  # URLs from the page; text only
    assert not page.find(attrs={"onclick": True}) and not page.find(attrs={"onload": True})
    root = page.find(id="gradebook")
    assert root["data-gradebook-url"] == "/dev/lms/api/gradebook" and root["data-poll-ms"] == "2000"
    assert root["data-stats-url"] == "/dev/lms/api/stats" and root["data-faults-url"] == "/dev/lms/api/faults"
    assert lms.http.get(root["data-gradebook-url"].replace("/dev/lms", lms.url, 1), timeout=10).json()["lineitems"]


def test_page_works_without_scripts(lms):
    page = gradebook(lms)
    reload_link = page.find("a", string="Reload the gradebook")
    assert reload_link is not None and reload_link["href"] == "/dev/lms/gradebook"
    refresh = page.head.find("noscript")
    assert refresh is not None and 'http-equiv="refresh"' in str(refresh)


def test_page_is_labelled(lms, line_item_url):
    lms.score(scores_url(line_item_url), lms.access_token("moodle"), "u-learner-1")
    page = gradebook(lms)
    status = page.find(id="gb-status")
    assert status["aria-live"] == "polite" and status.get_text().startswith("Last updated")
    assert status.find("time")["datetime"]
    tables = page.find_all("table")
    assert len(tables) == 3
    for table in tables:
        assert table.find("caption").get_text(strip=True)
        assert all(th.get("scope") == "col" for th in table.find("thead").find_all("th"))
    grades = tables[0]
    assert "Relationships" in grades.caption.get_text()
    rows = grades.find("tbody").find_all("tr")
    assert all(r.find("th", scope="row") for r in rows)
    assert "u-learner-1" in rows[0].th.get_text() and "1 / 1" in rows[0].get_text()


def _score_cell(page, user_id: str) -> str:
    row = page.locator("#gb-items tbody tr", has=page.locator("code", has_text=user_id)).first
    return row.locator("td").first.inner_text()


@pytest.mark.browser
def test_grades_appear_without_a_reload(lms, line_item_url):
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto(lms.url + "/gradebook")
        page.wait_for_selector("#gradebook[data-live=on]")
        page.evaluate("window.__notReloaded = true")
        before = page.locator("#gb-status").inner_text()
        assert _score_cell(page, "u-learner-2") == "–"

        token = lms.access_token("moodle")
        assert lms.score(scores_url(line_item_url), token, "u-learner-2", given=3, maximum=4,
                         comment="<b>bold?</b>").status_code == 200
        page.wait_for_function(
            "document.querySelector('#gb-status').textContent.indexOf('Last updated') === 0"
            " && document.querySelector('#gb-status').textContent !== " + repr(before), timeout=10000)
        assert _score_cell(page, "u-learner-2") == "0.75 / 1"
        row = page.locator("#gb-items tbody tr", has=page.locator("code", has_text="u-learner-2")).first
        assert "<b>bold?</b>" in row.inner_text()  # text, never markup
        assert page.evaluate("window.__notReloaded") is True
        assert page.locator("#gb-recent tr").first.inner_text().split("\t")[2] == "u-learner-2"
        assert page.locator("#gb-status").get_attribute("aria-live") == "polite"

        assert lms.score(scores_url(line_item_url), token, "u-load-77").status_code == 200
        page.locator("#gb-items code", has_text="u-load-77").wait_for(timeout=10000)
        lms.http.post(lms.url + "/api/faults", json={"fail_rate": 0.5, "fail_seed": 1}, timeout=10)
        page.locator("#gb-faults", has_text="50% of services calls").wait_for(timeout=10000)
        context.close()


@pytest.mark.browser
def test_page_without_scripts_shows_grades_and_reload_link(lms, line_item_url):
    assert lms.score(scores_url(line_item_url), lms.access_token("moodle"), "u-learner-1", given=1).status_code == 200
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(lms.url + "/gradebook")
        assert _score_cell(page, "u-learner-1") == "1 / 1"
        page.get_by_role("link", name="Reload the gradebook").click()
        page.wait_for_load_state()
        assert page.url == lms.url + "/gradebook"
        assert page.get_by_role("table", name="Grades for Relationships, one row per person").is_visible()
        context.close()
