"""Course pages: the site's markdown dialect, sanitising, links, worksheet declarations, content checks."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from lti_tool import content
from lti_tool.content import ContentError, ContentInvalid, PageNotFound

ROOT = Path(__file__).resolve().parent.parent
OUR_CONTENT = ROOT / "content"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "content"
SEEDS = FIXTURES / "seeds"
PAGES = FIXTURES / "pages"
BROKEN = FIXTURES / "broken"

ALL_PAGES = [(OUR_CONTENT, "relationships"), (OUR_CONTENT, "rethinking-partnerships"),
             (SEEDS, "seed-relationships"), (SEEDS, "seed-rethinking")]


def soup(directory: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup(content.load_page(directory, name).html, "html.parser")


# --- the four pages -------------------------------------------------------------------------------

@pytest.mark.parametrize("directory,name", ALL_PAGES)
def test_pages_render_without_attribute_list_leaks(directory, name):
    page = content.load_page(directory, name)
    assert page.name == name and page.title
    assert "{:" not in page.html and "markdown=" not in page.html


@pytest.mark.parametrize("directory,name", [(OUR_CONTENT, "rethinking-partnerships"), (SEEDS, "seed-rethinking")])
def test_value_of_partnerships_list_is_a_list(directory, name):
    callout = soup(directory, name).find("div", class_="callout")
    assert callout["class"] == ["callout", "info"]
    assert callout.find("h2").get_text().startswith("The Value of Partnerships")
    items = callout.find("ul").find_all("li")
    assert len(items) == 9
    assert "*" not in callout.find("p").get_text()


@pytest.mark.parametrize("directory,name", [(OUR_CONTENT, "relationships"), (SEEDS, "seed-relationships")])
def test_callout_and_colour_highlight_classes_kept(directory, name):
    page = soup(directory, name)
    for n in (1, 2, 3):
        assert page.find("div", class_=f"color{n}")["class"] == ["colorhighlight", f"color{n}"]
    assert page.find("div", class_="callout")["class"] == ["callout", "activity"]


def test_sunnydale_example_is_a_table():
    highlight = soup(OUR_CONTENT, "relationships").find("div", class_="color2")
    table = highlight.find("table")
    assert [th.get_text() for th in table.find("thead").find_all("th")] == [
        "Partnership", "Strengths", "Weaknesses", "How can it be improved?"]
    rows = table.find("tbody").find_all("tr")
    assert len(rows) == 3
    assert all(len(row.find_all("td")) == 4 for row in rows)
    assert "English/Farsi" in rows[0].get_text()


def test_seed_sunnydale_lines_render_as_text():
    highlight = soup(SEEDS, "seed-relationships").find("div", class_="color2")
    assert highlight.find("table") is None
    assert "Neighborhood Association 2" in highlight.get_text()


@pytest.mark.parametrize("directory,name,target", [(OUR_CONTENT, "relationships", "rethinking-partnerships"),
                                                   (SEEDS, "seed-relationships", "seed-rethinking")])
def test_community_partnerships_link_leads_to_the_rethinking_page(directory, name, target):
    link = soup(directory, name).find("a", string="Community Partnerships module")
    assert link["href"] == f"?page={target}"
    assert link["data-page"] == target
    assert content.load_page(directory, name).links_to == (target,)


def test_seed_worksheet_heading_with_empty_link_is_plain_text_without_a_worksheet():
    heading = soup(SEEDS, "seed-relationships").find("h3", id="worksheet-6-your-relationships-capacity")
    assert [a["class"] for a in heading.find_all("a")] == [["headerlink"]]
    assert heading.get_text().startswith("Worksheet #6: Your relationships capacity")


@pytest.mark.parametrize("directory,name", ALL_PAGES)
def test_headings_have_ids_and_anchor_links(directory, name):
    page = content.load_page(directory, name)
    headings = soup(directory, name).find_all(["h2", "h3"])
    assert headings and len(page.headings) == len(headings)
    for heading, (hid, text, level) in zip(headings, page.headings):
        assert heading["id"] == hid and heading.name == f"h{level}"
        anchor = heading.find("a", class_="headerlink")
        assert anchor["href"] == f"#{hid}" and anchor["title"] == "Link to this section"
        assert heading.get_text() == text + "#"


def test_heading_ids_do_not_take_the_tool_page_ids():
    from lti_tool.content.render import LinkContext, render

    rendered = render("## Worksheet\n\n## Checklist\n\n## Cómo empezar", LinkContext())
    assert [h.id for h in rendered.headings] == ["worksheet-section", "checklist-section", "cómo-empezar"]


def test_relationships_headings():
    page = content.load_page(OUR_CONTENT, "relationships")
    assert page.headings[1] == ("sunnydale-public-library", "Sunnydale Public Library", 3)


# --- the dialect ----------------------------------------------------------------------------------

def test_attribute_lists_on_links_with_and_without_space():
    page = soup(PAGES, "dialect")
    for text in ("external link", "with a space", "in single quotes"):
        link = page.find("a", string=text)
        assert link["target"] == "_blank"
        assert link["rel"] == ["noopener", "noreferrer"]
    assert "{:" not in str(page)


def test_external_links_get_noopener_internal_ones_do_not():
    page = soup(PAGES, "dialect")
    assert page.find("a", string="plain one")["rel"] == ["noopener", "noreferrer"]
    internal = page.find("a", string="the other page")
    assert internal["href"] == "?page=other" and internal["data-page"] == "other"
    assert not internal.has_attr("rel") and not internal.has_attr("target")


def test_internal_link_keeps_its_anchor():
    link = soup(PAGES, "dialect").find("a", string="first section")
    assert link["href"] == "?page=other#section-one" and link["data-page"] == "other"


def test_empty_links():
    page = soup(PAGES, "dialect")
    assert page.find("a", string="a named link")["href"] == "?page=other"
    assert page.find("a", string="empty link") is None
    assert "This empty link leads nowhere." in page.get_text()
    worksheet = page.find("a", string="Worksheet #1: The sampler")
    assert worksheet["href"] == "#worksheet" and not worksheet.has_attr("target")


def test_lists_after_paragraphs_but_not_in_code_or_tables():
    page = soup(PAGES, "dialect")
    assert [li.get_text() for li in page.find("div", class_="callout").find_all("li")] == ["first", "second", "third"]
    assert len(page.find("div", class_="color2").find("ol").find_all("li")) == 2
    assert "* not a list item, in code" in page.find("pre").get_text()
    assert page.find("table").find("td").get_text() == "- dash"


def test_list_preprocessor_leaves_list_continuations_alone():
    from lti_tool.content.render import LinkContext, render

    html = render("* one\n  continued\n* two\n\npara\n* * *\nafter", LinkContext()).html
    assert "<li>one\n  continued</li>" in html and "<p>" not in html.split("</ul>")[0]
    assert "<hr>" in html


def test_unsafe_html_is_cleaned():
    html = content.load_page(PAGES, "unsafe").html
    lowered = html.lower()
    for bad in ("<script", "alert(", "onclick", "onmouseover", "onerror", "javascript:", "<iframe", "style=",
                "data:", "_top"):
        assert bad not in lowered, bad
    page = BeautifulSoup(html, "html.parser")
    assert page.find("div", class_="callout")["class"] == ["callout", "info"]
    assert page.find("img")["src"] == "https://example.org/x.png"
    raw = page.find("a", string="raw new window")
    assert raw["target"] == "_blank" and raw["rel"] == ["noopener", "noreferrer"]
    assert "a raw one" in page.get_text()


# --- worksheet declaration -----------------------------------------------------------------------

def test_relationships_worksheet_spec():
    spec = content.load_page(OUR_CONTENT, "relationships").worksheet
    assert spec.id == "relationships-capacity"
    assert spec.title == "Worksheet #6: Your relationships capacity"
    assert spec.score_maximum == 1 and spec.instructions
    assert [c.label for c in spec.table.columns] == [
        "Partnership", "Type", "Strengths", "Weaknesses", "How can it be improved?"]
    kind = spec.table.columns[1]
    assert (kind.kind, kind.choices) == ("choice", ("formal", "informal"))
    assert [c.kind for c in spec.table.columns] == ["text", "choice", "textarea", "textarea", "textarea"]
    assert spec.table.max_rows == 30 and spec.table.row_label == "Partnership"
    assert len(spec.questions) == 4
    assert spec.completion.questions == tuple(q.id for q in spec.questions)
    hash(spec)  # forms are cached by spec


def test_worksheet_defaults():
    spec = content.load_page(PAGES, "dialect").worksheet
    assert spec.score_maximum == 1 and spec.instructions == ""
    assert (spec.table.id, spec.table.max_rows) == ("rows", 50)
    assert [c.max_length for c in spec.table.columns] == [2000, 2000, 2000]
    assert spec.questions[0].max_length == 4000
    assert spec.completion.min_rows == 1
    assert spec.completion.row_requires == ("name", "notes")  # text and textarea columns
    assert spec.completion.questions == ("why",)


def _row(**values):
    return {"partnership": "", "type": "", "strengths": "", "weaknesses": "", "improvement": "", **values}


FULL_ROW = _row(partnership="School", strengths="Teachers", weaknesses="Busy", improvement="Calendar")
ALL_ANSWERS = {"connect-colleagues": "a", "leverage-relationships": "b", "talk-more": "c", "never-thought": "d"}


@pytest.mark.parametrize("rows,answers,complete", [
    ([FULL_ROW], ALL_ANSWERS, True),
    ([_row(), FULL_ROW], ALL_ANSWERS, True),  # a blank row does not matter
    ([], ALL_ANSWERS, False),
    ([{**FULL_ROW, "weaknesses": "   "}], ALL_ANSWERS, False),  # blank after strip
    ([{k: v for k, v in FULL_ROW.items() if k != "improvement"}], ALL_ANSWERS, False),
    ([FULL_ROW], {**ALL_ANSWERS, "talk-more": " \n"}, False),
    ([FULL_ROW], {k: v for k, v in ALL_ANSWERS.items() if k != "never-thought"}, False),
    ([{**FULL_ROW, "type": ""}], ALL_ANSWERS, True),  # type is not required
])
def test_completion_rule(rows, answers, complete):
    spec = content.load_page(OUR_CONTENT, "relationships").worksheet
    assert spec.is_complete(rows, answers) is complete
    assert all(done for _, _, done in spec.checklist(rows, answers)) is complete


def test_checklist_items():
    spec = content.load_page(OUR_CONTENT, "relationships").worksheet
    items = spec.checklist([FULL_ROW], {"talk-more": "yes"})
    assert [i for i, _, _ in items] == ["rows", "question-connect-colleagues", "question-leverage-relationships",
                                       "question-talk-more", "question-never-thought"]
    assert [done for _, _, done in items] == [True, False, False, True, False]
    assert all(isinstance(label, str) for _, label, _ in items)
    assert "Strengths" in items[0][1] and "Type" not in items[0][1]


def test_completion_with_chosen_questions_and_two_rows():
    spec, problems = content.parse_worksheet({
        "id": "w", "title": "W",
        "table": {"label": "T", "columns": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]},
        "questions": [{"id": "q1", "label": "Q1"}, {"id": "q2", "label": "Q2"}],
        "completion": {"min_rows": 2, "row_requires": ["a"], "questions": ["q2"]},
    })
    assert problems == []
    assert not spec.is_complete([{"a": "x"}], {"q2": "y"})
    assert spec.is_complete([{"a": "x"}, {"a": "z", "b": ""}], {"q2": "y"})
    assert not spec.is_complete([{"a": "x"}, {"a": "z"}], {"q1": "y"})


# --- checking content ----------------------------------------------------------------------------

@pytest.mark.parametrize("directory", [OUR_CONTENT, SEEDS, PAGES])
def test_check_content_on_good_directories(directory):
    assert content.check_content(directory) == []


def test_check_content_on_broken_pages():
    errors = content.check_content(BROKEN)
    found = {(e.file, e.line, e.message) for e in errors}
    assert all(isinstance(e, ContentError) and e.file for e in errors)
    expected = {
        ("no-front-matter.md", 1), ("bad-yaml.md", 5), ("no-title.md", 1),
        ("bad-worksheet.md", 4), ("bad-worksheet.md", 6), ("bad-worksheet.md", 7), ("bad-worksheet.md", 10),
        ("bad-worksheet.md", 13), ("bad-worksheet.md", 14), ("bad-worksheet.md", 15), ("bad-worksheet.md", 18),
        ("bad-worksheet.md", 20), ("bad-worksheet.md", 21), ("bad-worksheet.md", 22),
        ("dead-link.md", 5), ("dead-link.md", 7), ("links.yml", 1), ("links.yml", 2), ("Bad_Name.md", None),
    }
    assert {(f, line) for f, line, _ in found} == expected
    assert "bad-worksheet.md:13: worksheet.table.columns[1]: choice column needs choices" in map(str, errors)
    assert "bad-yaml.md:5: front matter: invalid YAML" in " ".join(map(str, errors))
    assert "bad-worksheet.md:15: worksheet.table.columns[3].kind: unknown kind 'date'" in " ".join(map(str, errors))


def test_broken_page_raises_content_invalid():
    with pytest.raises(ContentInvalid) as info:
        content.load_page(BROKEN, "bad-worksheet")
    assert len(info.value.errors) > 5 and "choice column needs choices" in str(info.value)
    for name in ("no-front-matter", "bad-yaml", "no-title"):
        with pytest.raises(ContentInvalid):
            content.load_page(BROKEN, name)


def test_list_pages_leaves_out_broken_pages():
    assert [p.name for p in content.list_pages(BROKEN)] == ["dead-link"]
    assert content.list_pages(OUR_CONTENT) == [
        content.PageSummary("relationships", "Relationships", True),
        content.PageSummary("rethinking-partnerships", "Rethinking partnerships", False),
    ]


def test_check_content_missing_directory(tmp_path):
    errors = content.check_content(tmp_path / "nowhere")
    assert len(errors) == 1 and "not found" in errors[0].message
    assert content.check_content(tmp_path)[0].message.startswith("no pages")


def test_not_utf8_page(tmp_path):
    (tmp_path / "latin.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    with pytest.raises(ContentInvalid, match="not UTF-8"):
        content.load_page(tmp_path, "latin")


def test_column_error_lines_in_a_copy_of_relationships(tmp_path):
    text = (OUR_CONTENT / "relationships.md").read_text().replace(
        "kind: choice, choices: [formal, informal]", "kind: choice").replace("min_rows: 1", "min_rows: 0\n    max: 3")
    (tmp_path / "relationships.md").write_text(text)
    lines = text.splitlines()
    column = lines.index('      - {id: type, label: "Type", kind: choice}') + 1
    unknown = lines.index("    max: 3") + 1
    assert [str(e) for e in content.check_content(tmp_path)] == [
        f"relationships.md:{column}: worksheet.table.columns[1]: choice column needs choices",
        f"relationships.md:{unknown}: worksheet.completion.max: unknown key (expected one of: min_rows, questions, row_requires)",
    ]


# --- names and caching ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../etc/passwd", "Uppercase", "", "relationships\n", "relationships.md", "-x",
                                  "a" * 65, "rel/ationships", "..", None, 5, "relationships "])
def test_invalid_page_names_are_rejected(name):
    with pytest.raises(PageNotFound):
        content.load_page(OUR_CONTENT, name)


def test_unknown_page():
    with pytest.raises(PageNotFound):
        content.load_page(OUR_CONTENT, "no-such-page")


def test_pages_are_cached_until_the_file_changes(tmp_path):
    shutil.copy(SEEDS / "seed-rethinking.md", tmp_path / "page.md")
    first = content.load_page(tmp_path, "page")
    assert content.load_page(tmp_path, "page") is first
    path = tmp_path / "page.md"
    path.write_text(path.read_text().replace("title: Rethinking partnerships", "title: Changed"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert content.load_page(tmp_path, "page").title == "Changed"


def test_links_file_changes_are_picked_up(tmp_path):
    for name in ("seed-relationships.md", "seed-rethinking.md"):
        shutil.copy(SEEDS / name, tmp_path / name)
    plain = soup(tmp_path, "seed-relationships")
    assert plain.find("a", string="Community Partnerships module") is None
    (tmp_path / "links.yml").write_text("Community Partnerships module: seed-rethinking\n")
    assert soup(tmp_path, "seed-relationships").find("a", string="Community Partnerships module")["data-page"] == "seed-rethinking"
