"""Errors about course pages: a page that does not exist, and problems found in a content file."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class ContentError:
    """One problem in a content file; `line` is 1-based, or None when no line applies."""

    file: str
    line: Optional[int]
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class PageNotFound(LookupError):
    """No page by that name (or the name is not a valid page name)."""


class ContentInvalid(ValueError):
    """A page file has errors; `errors` lists them."""

    def __init__(self, errors: list[ContentError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ITEM = re.compile(r"^\s*-(\s|$)")


def locate(path: str, lines: list[str], start: int, end: int) -> Optional[int]:
    """The 1-based line of a key path such as `worksheet.table.columns[1].kind`.

    A simple search: each key is looked for below the previous one, each `[n]` is the
    n-th block sequence item below it. Searches lines[start:end]; None if the first key
    is not found."""
    pos: Optional[int] = None
    for key, index in _TOKEN.findall(path):
        found = _find_key(key, lines, start if pos is None else pos, end) if key else _find_item(int(index), lines, pos, end)
        if found is None:
            break
        pos = found
    return None if pos is None else pos + 1


def _find_key(key: str, lines: list[str], start: int, end: int) -> Optional[int]:
    pattern = re.compile(r"(?:^|[\s{,])[\"']?" + re.escape(key) + r"[\"']?\s*:")
    return next((i for i in range(start, end) if pattern.search(lines[i])), None)


def _find_item(index: int, lines: list[str], pos: Optional[int], end: int) -> Optional[int]:
    """The index-th item of the block sequence starting below line `pos` (items at its first item's indent)."""
    if pos is None:
        return None
    indent, seen = None, -1
    for i in range(pos + 1, end):
        text = lines[i]
        width = len(text) - len(text.lstrip())
        if indent is not None and text.strip() and width < indent:
            return None
        if _ITEM.match(text) and (indent is None or width == indent):
            indent, seen = width, seen + 1
            if seen == index:
                return i
    return None
