"""limit/page query parameters and the RFC 8288 Link header that AGS and NRPS containers use."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

T = TypeVar("T")
MAX_LIMIT = 1000


class PagingError(ValueError):
    """limit or page is not a positive integer."""


def parse(args) -> tuple[int | None, int]:
    """(limit or None, page >= 1) from request args."""
    try:
        limit = int(args["limit"]) if args.get("limit") not in (None, "") else None
        page = int(args.get("page") or 1)
    except ValueError as error:
        raise PagingError("limit and page must be integers") from error
    if (limit is not None and limit < 1) or page < 1:
        raise PagingError("limit and page must be positive")
    return (min(limit, MAX_LIMIT) if limit else None), page


def slice_page(items: Sequence[T], limit: int | None, page: int) -> tuple[list[T], bool]:
    """The items on this page, and whether a further page exists."""
    if limit is None:
        return list(items), False
    start = (page - 1) * limit
    return list(items[start:start + limit]), start + limit < len(items)


def with_params(url: str, **params) -> str:
    """url with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def link_header(url: str, limit: int | None, page: int, has_next: bool) -> str | None:
    """Link: <...>; rel="next" (and rel="first" when paging), or None."""
    if limit is None:
        return None
    links = [f'<{with_params(url, limit=limit, page=1)}>; rel="first"']
    if has_next:
        links.append(f'<{with_params(url, limit=limit, page=page + 1)}>; rel="next"')
    return ", ".join(links)
