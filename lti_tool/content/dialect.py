"""Python-Markdown help for the course pages' dialect (kramdown/CommonMark habits).

A bullet list may start on the line right after a paragraph line, with no blank line in
between. CommonMark (and kramdown, as the site used it) makes that a list; Python-Markdown
would make it part of the paragraph. The preprocessor here inserts the missing blank line.
"""
from __future__ import annotations

import re

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

# A list item that may interrupt a paragraph, as in CommonMark: a bullet, or an ordered item numbered 1.
LIST_ITEM = re.compile(r" {0,3}(?:[*+-]|1[.)])[ \t]+\S")
THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
TABLE_DIVIDER = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")


def is_list_item(line: str) -> bool:
    """True for a line that starts a list item (and is not a thematic break like `* * *`)."""
    return bool(LIST_ITEM.match(line)) and not THEMATIC_BREAK.fullmatch(line)


class ListAfterParagraph(Preprocessor):
    """Insert a blank line before a list item that directly follows a paragraph line.

    Leaves alone: fenced code, lines of a block that started as a list (continuations,
    nested items) or as indented code, and table rows (lines with a | in a table)."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        fence = None
        block_start = None  # first line of the current run of non-blank lines
        for i, line in enumerate(lines):
            fence = _fence_state(fence, line)
            if not line.strip():
                block_start = None
            elif block_start is None:
                block_start = i
            elif fence is None and is_list_item(line) and self._splits(lines, block_start, i):
                out.append("")
                block_start = i
            out.append(line)
        return out

    @staticmethod
    def _splits(lines: list[str], start: int, i: int) -> bool:
        """Whether line i, inside the block starting at `start`, follows a paragraph line."""
        first, previous = lines[start], lines[i - 1]
        if is_list_item(first) or first.startswith(("    ", "\t")):
            return False
        if start + 1 < len(lines) and "|" in first and TABLE_DIVIDER.fullmatch(lines[start + 1]) and "|" in lines[i]:
            return False  # a table row that starts like a list item ("- x | y")
        return not is_list_item(previous) and not FENCE.match(previous)


def _fence_state(fence: str | None, line: str) -> str | None:
    """The open code fence after this line (None outside fenced code)."""
    match = FENCE.match(line)
    if match is None:
        return fence
    marker = match.group(1)
    if fence is None:
        return marker
    if marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker):].strip():
        return None
    return fence


class CourseDialect(Extension):
    """Registers ListAfterParagraph after whitespace normalisation and before raw HTML is stashed."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(ListAfterParagraph(md), "list_after_paragraph", 25)
