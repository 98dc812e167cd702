"""Course pages from CONTENT_DIR: markdown in the course site's dialect, rendered to safe HTML,
with the worksheet a page declares in its front matter.

    load_page(content_dir, name) -> Page          (PageNotFound, ContentInvalid)
    list_pages(content_dir) -> list[PageSummary]
    check_content(content_dir) -> list[ContentError]
"""
from __future__ import annotations

from .errors import ContentError, ContentInvalid, PageNotFound
from .pages import LINKS_FILE, Page, PageSummary, check_content, list_pages, load_page, valid_name
from .render import Heading
from .worksheet import ColumnSpec, CompletionRule, QuestionSpec, TableSpec, WorksheetSpec, parse_worksheet

__all__ = [
    "LINKS_FILE", "ColumnSpec", "CompletionRule", "ContentError", "ContentInvalid", "Heading", "Page",
    "PageNotFound", "PageSummary", "QuestionSpec", "TableSpec", "WorksheetSpec", "check_content",
    "list_pages", "load_page", "parse_worksheet", "valid_name",
]
