"""Markdown to safe HTML: render the dialect, sanitise with nh3, then settle every link.

Links are settled on the sanitised HTML, so links written as raw HTML follow the same rules
as markdown ones:
- `other-page.md` (or `other-page.md#anchor`) becomes `href="?page=other-page"` with
  `data-page="other-page"`, for the view to turn into a link inside the tool;
- an empty href is resolved by the link's text: a name in links.yml (to a page), or the
  page's own worksheet title (to `#worksheet`); otherwise the link becomes plain text;
- http(s) links and links opening a new window (target _blank) get rel="noopener noreferrer".
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

from .dialect import CourseDialect

PAGE_LINK = re.compile(r"(?:\./)?([a-z0-9][a-z0-9_-]{0,63})\.md(#[\w.:-]*)?")
EXTERNAL = re.compile(r"https?://", re.IGNORECASE)
A_ELEMENT = re.compile(r'<a((?:\s+[^\s="/>]+="[^"]*")*)\s*>(.*?)</a>', re.DOTALL)
ATTRIBUTE = re.compile(r'([^\s="/>]+)="([^"]*)"')
TAG = re.compile(r"<[^>]*>")
NOOPENER = "noopener noreferrer"
# Ids the tool's own page uses around the rendered content; a heading must not take one.
RESERVED_IDS = {
    "main", "launch", "worksheet", "worksheet-form", "worksheet-title", "worksheet-status", "checklist",
    "checklist-title", "conflict-notice", "error-summary", "save-status", "save-draft", "submit", "keep-mine",
    "add-row", "ws-rows", "rows-help", "rows-error",
}

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TAGS = HEADINGS | {
    "p", "ul", "ol", "li", "a", "strong", "em", "b", "i", "code", "pre", "blockquote", "hr", "br",
    "table", "caption", "thead", "tbody", "tr", "th", "td", "div", "span", "img", "sup", "sub", "del",
}
ATTRIBUTES = {
    "*": {"class", "dir", "lang"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"}, "td": {"align"}, "ol": {"start"},
    **{h: {"id"} for h in HEADINGS},
}
CLEANER = nh3.Cleaner(
    tags=TAGS, clean_content_tags={"script", "style", "template", "iframe", "object", "noscript"},
    attributes=ATTRIBUTES, tag_attribute_values={"a": {"target": {"_blank"}}},
    link_rel=None, url_schemes={"http", "https", "mailto"},
)


class Heading(NamedTuple):
    """A heading of the page, for a table of contents: its id (anchor), text and level (1-6)."""

    id: str
    text: str
    level: int


@dataclass(frozen=True)
class LinkContext:
    """What settles empty links: link texts (casefolded) to page names, and the worksheet title."""

    names: dict[str, str] = field(default_factory=dict)
    worksheet_title: Optional[str] = None


@dataclass
class Rendered:
    """A rendered page body: safe HTML, its headings, and the pages it links to."""

    html: str
    headings: list[Heading]
    links_to: list[str]


def fold(text: str) -> str:
    """Link text as compared with links.yml and worksheet titles: casefolded, spaces collapsed."""
    return " ".join(text.split()).casefold()


def heading_id(text: str, separator: str) -> str:
    """A heading's id: its text slugified (Unicode letters kept), never one of RESERVED_IDS."""
    slug = slugify_unicode(text, separator)
    return f"{slug}{separator}section" if slug in RESERVED_IDS else slug


def render(body: str, context: LinkContext) -> Rendered:
    """Render a page body (markdown without its front matter) to sanitised HTML."""
    md = markdown.Markdown(
        extensions=["md_in_html", "attr_list", "tables", "fenced_code", "toc", CourseDialect()],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "toc": {"permalink": "#", "permalink_title": "Link to this section", "slugify": heading_id},
        },
        output_format="html",
    )
    raw = md.convert(body)
    links_to: list[str] = []
    safe = A_ELEMENT.sub(lambda m: _settle_link(m, context, links_to), CLEANER.clean(raw))
    return Rendered(html=safe, headings=_headings(md.toc_tokens), links_to=links_to)


def _headings(tokens: list[dict]) -> list[Heading]:
    out: list[Heading] = []
    for token in tokens:
        out.append(Heading(token["id"], html.unescape(token["name"]), int(token["level"])))
        out.extend(_headings(token["children"]))
    return out


def _settle_link(match: re.Match, context: LinkContext, links_to: list[str]) -> str:
    """One sanitised <a> element, rewritten by the rules in the module docstring."""
    attrs = dict(ATTRIBUTE.findall(match.group(1)))
    inner = match.group(2)
    href = attrs.get("href")
    if href is None:
        return inner
    if not href.strip():
        href = _resolve_empty(html.unescape(TAG.sub("", inner)), context)
        if href is None:
            return inner
        attrs.pop("target", None)
    page = PAGE_LINK.fullmatch(html.unescape(href))
    if page:
        links_to.append(page.group(1))
        attrs.pop("target", None)
        attrs.update(href=f"?page={page.group(1)}{page.group(2) or ''}", **{"data-page": page.group(1)})
    else:
        attrs["href"] = href
    if EXTERNAL.match(attrs["href"]) or attrs.get("target") == "_blank":
        attrs["rel"] = NOOPENER
    return "<a" + "".join(f' {k}="{v}"' for k, v in attrs.items()) + f">{inner}</a>"


def _resolve_empty(text: str, context: LinkContext) -> Optional[str]:
    """Where an empty link leads, by its text: a page file name, "#worksheet", or None."""
    key = fold(text)
    if key in context.names:
        return f"{context.names[key]}.md"
    if context.worksheet_title and key == fold(context.worksheet_title):
        return "#worksheet"
    return None
