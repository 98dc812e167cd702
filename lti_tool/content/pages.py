"""Course pages in CONTENT_DIR: `<name>.md` files with YAML front matter, and an optional links.yml."""
from __future__ import annotations

import functools
import logging
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from .errors import ContentError, ContentInvalid, PageNotFound, locate
from .render import Heading, LinkContext, fold, render
from .worksheet import IDENT, WorksheetSpec, parse_worksheet

log = logging.getLogger("lti_tool.content")

LINKS_FILE = "links.yml"
FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
PathLike = Union[str, Path]
Stamp = Optional[tuple[int, int]]


@dataclass(frozen=True)
class Page:
    """A rendered course page. `html` is sanitised: safe to mark as Markup."""

    name: str
    title: str
    html: str
    worksheet: Optional[WorksheetSpec]
    headings: tuple[Heading, ...]
    links_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageSummary:
    """A page as listed for choosing one: its name, title, and whether it has a worksheet."""

    name: str
    title: str
    has_worksheet: bool


@dataclass
class _Source:
    """A page file split into its front matter (parsed) and its markdown body."""

    file: str
    lines: list[str]
    meta: dict
    body: str
    front_end: int  # index of the closing --- line


def valid_name(name: Any) -> bool:
    """Whether `name` can be a page name: ^[a-z0-9][a-z0-9_-]{0,63}$ (no dots, slashes or capitals)."""
    return isinstance(name, str) and IDENT.fullmatch(name) is not None


def page_path(content_dir: PathLike, name: Any) -> Path:
    """The file of page `name`; raises PageNotFound for a name that is not valid."""
    if not valid_name(name):
        raise PageNotFound(name)
    return Path(content_dir) / f"{name}.md"


def load_page(content_dir: PathLike, name: str) -> Page:
    """The page `name`, rendered (cached until its file or links.yml changes).

    Raises PageNotFound (unknown or invalid name) or ContentInvalid (the file has errors)."""
    path = page_path(content_dir, name)
    stamp = _stamp(path)
    if stamp is None:
        raise PageNotFound(name)
    links_path = Path(content_dir) / LINKS_FILE
    return _load_cached(str(path), stamp, str(links_path), _stamp(links_path))


def list_pages(content_dir: PathLike) -> list[PageSummary]:
    """Every page that loads, by name. Broken pages are left out (and logged): see check_content."""
    out = []
    for name in _page_names(content_dir):
        try:
            page = load_page(content_dir, name)
        except (ContentInvalid, PageNotFound) as exc:
            log.warning("content: page %s left out of the list: %s", name, exc)
            continue
        out.append(PageSummary(page.name, page.title, page.worksheet is not None))
    return out


def check_content(content_dir: PathLike) -> list[ContentError]:
    """Every problem in the content directory: front matter, worksheets, links.yml, rendering, links."""
    root = Path(content_dir)
    if not root.is_dir():
        return [ContentError(str(root), None, "content directory not found")]
    names, errors = _load_links(root / LINKS_FILE)
    files = sorted(p for p in root.glob("*.md") if p.is_file())
    errors += [ContentError(p.name, None, "file name is not a page name: use lowercase letters, digits, - and _ "
                            "(up to 64), starting with a letter or digit") for p in files if not valid_name(p.stem)]
    pages = [p.stem for p in files if valid_name(p.stem)]
    if not pages:
        errors.append(ContentError(str(root), None, "no pages (.md files) in the content directory"))
    for name in pages:
        errors += _check_page(root / f"{name}.md", names, set(pages))
    errors += _check_link_targets(root / LINKS_FILE, names, set(pages))
    return errors


def _page_names(content_dir: PathLike) -> list[str]:
    root = Path(content_dir)
    if not root.is_dir():
        return []
    return sorted(p.stem for p in root.glob("*.md") if valid_name(p.stem) and p.is_file())


def _stamp(path: Path) -> Stamp:
    """(mtime_ns, size) of a regular file, or None when there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if stat.S_ISREG(st.st_mode) else None


@functools.lru_cache(maxsize=256)
def _load_cached(path: str, stamp: Stamp, links_path: str, links_stamp: Stamp) -> Page:
    """Build a page once per version of its file and of links.yml (errors are not cached)."""
    names, link_errors = _load_links(Path(links_path))
    for error in link_errors:
        log.warning("content: %s (empty links that need it show as plain text)", error)
    page, errors = _build(Path(path), names)
    if page is None:
        raise ContentInvalid(errors)
    return page


def _build(path: Path, names: dict[str, str]) -> tuple[Optional[Page], list[ContentError]]:
    """A page from its file, or None and the errors that prevent it."""
    source, errors = _read(path)
    if source is None:
        return None, errors
    worksheet, errors = _worksheet(source)
    if errors:
        return None, errors
    context = LinkContext(names=names, worksheet_title=worksheet.title if worksheet else None)
    try:
        out = render(source.body, context)
    except Exception as exc:  # noqa: BLE001 - any renderer failure is a content error, never a 500
        return None, [ContentError(source.file, None, f"cannot render the page: {exc!r}")]
    return Page(name=path.stem, title=source.meta["title"].strip(), html=out.html, worksheet=worksheet,
                headings=tuple(out.headings), links_to=tuple(dict.fromkeys(out.links_to))), []


def _read(path: Path) -> tuple[Optional[_Source], list[ContentError]]:
    """The file split into front matter and body, or None and what is wrong with the front matter."""
    file = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        return None, [ContentError(file, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    except OSError as exc:
        return None, [ContentError(file, None, f"cannot read the file: {exc.strerror}")]
    match = FRONT_MATTER.match(text)
    if match is None:
        return None, [ContentError(file, 1, "front matter missing: the file must start with a --- line, "
                                            "then `title: ...`, then another --- line")]
    lines = text.split("\n")
    front_end = text.count("\n", 0, match.end(1))
    meta, errors = _front_matter(file, match.group(1), lines, front_end)
    if meta is None:
        return None, errors
    return _Source(file, lines, meta, text[match.end():], front_end), []


def _front_matter(file: str, text: str, lines: list[str], end: int) -> tuple[Optional[dict], list[ContentError]]:
    try:
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [ContentError(file, mark.line + 2 if mark else 2, f"front matter: invalid YAML: {problem}")]
    if not isinstance(meta, dict):
        return None, [ContentError(file, 2, "front matter: must be a mapping (key: value lines) with a title")]
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        line = locate("title", lines, 1, end) or 1
        what = "missing title" if title is None else "title must be a non-empty text"
        return None, [ContentError(file, line, f"front matter: {what}")]
    return meta, []


def _worksheet(source: _Source) -> tuple[Optional[WorksheetSpec], list[ContentError]]:
    if "worksheet" not in source.meta:
        return None, []
    spec, problems = parse_worksheet(source.meta["worksheet"])
    errors = [ContentError(source.file, locate(path, source.lines, 1, source.front_end), f"{path}: {message}")
              for path, message in problems]
    return spec, sorted(errors, key=lambda e: e.line or 0)


def _load_links(path: Path) -> tuple[dict[str, str], list[ContentError]]:
    """links.yml as {casefolded link text: page name}, and its problems (a missing file is fine)."""
    if _stamp(path) is None:
        return {}, []
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [ContentError(path.name, None, f"cannot read the file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return {}, [ContentError(path.name, mark.line + 1 if mark else None,
                                 f"invalid YAML: {getattr(exc, 'problem', None) or exc}")]
    return _link_names(path.name, text.splitlines(), data)


def _link_names(file: str, lines: list[str], data: Any) -> tuple[dict[str, str], list[ContentError]]:
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [ContentError(file, 1, "must map link texts to page names (`Link text: page-name` lines)")]
    names: dict[str, str] = {}
    errors: list[ContentError] = []
    for text, page in data.items():
        line = _line_of(lines, str(text))
        if not isinstance(text, str) or not text.strip():
            errors.append(ContentError(file, line, f"{text!r}: a link text must be a non-empty text"))
        elif not valid_name(page):
            errors.append(ContentError(file, line, f"{text}: {page!r} is not a page name"))
        elif fold(text) in names:
            errors.append(ContentError(file, line, f"{text}: this link text is listed twice"))
        else:
            names[fold(text)] = page
    return names, errors


def _check_page(path: Path, names: dict[str, str], pages: set[str]) -> list[ContentError]:
    page, errors = _build(path, names)
    if page is None:
        return errors
    source, _ = _read(path)
    lines = source.lines if source else []
    if "{:" in page.html:
        errors.append(ContentError(path.name, _line_of(lines, "{:"),
                                   "an attribute list such as {:target=\"_blank\"} was not understood and shows as text"))
    for target in page.links_to:
        if target not in pages:
            errors.append(ContentError(path.name, _line_of(lines, f"{target}.md"), f"link to {target}.md: no such page"))
    return errors


def _check_link_targets(path: Path, names: dict[str, str], pages: set[str]) -> list[ContentError]:
    lines = path.read_text(encoding="utf-8-sig").splitlines() if names else []
    return [ContentError(path.name, _line_of(lines, page), f"{page}: no such page")
            for page in dict.fromkeys(names.values()) if page not in pages]


def _line_of(lines: list[str], needle: str) -> Optional[int]:
    """The 1-based number of the first line containing `needle`, or None."""
    return next((i + 1 for i, line in enumerate(lines) if needle in line), None)
