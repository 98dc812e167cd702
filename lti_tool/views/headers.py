"""Security headers of the tool's pages. The Content-Security-Policy lets only the registered
platforms frame the tool (frame-ancestors) and receive its forms (deep linking answers); scripts
and styles come from the tool itself, never inline. A response may let one more platform frame it
(allow_framing): the dynamic registration page, shown in the frame of a platform not registered yet."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Platform

ORIGINS_TTL = 60.0
CANVAS_ISSUER = "https://canvas.instructure.com"
CANVAS_HOSTED = "https://*.instructure.com"
_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


def platform_origins() -> tuple[str, ...]:
    """Origins of every registered platform (issuer and endpoints), refreshed every minute."""
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cached = _cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        urls = db.session.execute(select(Platform.issuer, Platform.auth_login_url, Platform.auth_token_url)).all()
    except SQLAlchemyError:  # the database is down: the page still goes out, framed by nobody else
        db.session.rollback()
        return ()
    origins = {o for row in urls for u in row if (o := _origin(u))}
    if any(row[0] == CANVAS_ISSUER for row in urls):
        origins.add(CANVAS_HOSTED)  # hosted Canvas frames the tool from each school's own subdomain
    origins = tuple(sorted(origins))
    _cache[key] = (time.monotonic() + ORIGINS_TTL, origins)
    return origins


def forget_origins() -> None:
    """Read the registered platforms again on the next page (after a registration changed them)."""
    _cache.clear()


def allow_framing(origins) -> None:
    """Let these origins frame (only) the response to this request, besides the registered platforms."""
    g.frame_ancestors_extra = tuple(sorted(set(g.get("frame_ancestors_extra", ())) | {o for o in origins if o}))


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) URL, else None."""
    return _origin(url)


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def content_security_policy() -> str:
    platforms = " ".join(platform_origins())
    extra = [o for o in g.get("frame_ancestors_extra", ()) if o not in platform_origins()]
    ancestors = " ".join([platforms, *extra]).strip()
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
        f"form-action 'self' {platforms}".strip(), f"frame-ancestors 'self' {ancestors}".strip(),
    ])


def apply(response):
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}  # one pass: Headers.setdefault scans each time
    wanted = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
    if not (request.blueprint and request.blueprint.startswith("devlms")):  # the practice LMS is another site
        if response.mimetype == "text/html":
            wanted.append(("Content-Security-Policy", None))
        if request.is_secure:
            wanted.append(("Strict-Transport-Security", "max-age=31536000"))
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value if value is not None else content_security_policy())
    return response
