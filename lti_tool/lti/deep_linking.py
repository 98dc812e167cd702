"""LTI Deep Linking through pylti1p3: the request's settings kept server-side, and the signed response.

A deep linking launch carries deep_linking_settings (the return URL, what the platform accepts, an
opaque `data`). They are kept in the shared cache under a random key that only the signed launch token
names, so the browser never supplies the return URL. The answer is pylti1p3's DeepLink, rebuilt from
the registration and the deployment id, signed with the tool's current key (kid in the header).
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence
from urllib.parse import urlsplit

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from ..content import Page
from ..extensions import cache
from .errors import LaunchError
from .tool_conf import DbToolConf

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS_CLAIM = DL + "deep_linking_settings"
DATA_CLAIM = DL + "data"


@dataclass(frozen=True)
class DeepLinkRequest:
    """What a deep linking launch asked for: the platform that asked, and its deep_linking_settings."""

    issuer: str
    client_id: str
    deployment_id: str
    settings: dict[str, Any]

    @property
    def return_url(self) -> str:
        return self.settings["deep_link_return_url"]

    @property
    def accept_multiple(self) -> bool:
        """Several items in one answer: only when the platform says so (true or "true")."""
        return str(self.settings.get("accept_multiple", False)).lower() == "true"

    @property
    def accept_line_items(self) -> bool:
        """Line items with the links, unless the platform says accept_lineitem false."""
        return str(self.settings.get("accept_lineitem", True)).lower() != "false"

    @property
    def text(self) -> Optional[str]:
        text = self.settings.get("text")
        return text if isinstance(text, str) and text.strip() else None


def check_settings(settings: Any) -> None:
    """The deep_linking_settings claim must give an absolute http(s) return URL (pylti1p3 does not check it)."""
    url = settings.get("deep_link_return_url") if isinstance(settings, dict) else None
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise LaunchError("missing_claim", f"deep_linking_settings has no usable deep_link_return_url ({url!r})")


def _cache_key(key: str) -> str:
    return f"deep-link-request-{key}"


def save_request(request: DeepLinkRequest, ttl: int) -> str:
    """Keep the request in the cache; the random key goes into the signed launch token."""
    key = secrets.token_urlsafe(24)
    cache.set(_cache_key(key), asdict(request), timeout=ttl)
    return key


def load_request(key: Optional[str]) -> Optional[DeepLinkRequest]:
    data = cache.get(_cache_key(key)) if key else None
    return DeepLinkRequest(**data) if isinstance(data, dict) else None


def consume_request(key: str) -> bool:
    """Forget an answered request; False when it was already answered (or expired)."""
    return bool(cache.delete(_cache_key(key)))


class ToolDeepLink(DeepLink):
    """pylti1p3's DeepLink: the `data` claim is echoed only when the platform sent one."""

    def get_message_jwt(self, resources: Sequence[DeepLinkResource]) -> dict[str, object]:
        message = super().get_message_jwt(resources)
        if self._deep_link_settings.get("data") is None:
            message.pop(DATA_CLAIM, None)
        return message


class PageLink(DeepLinkResource):
    """An ltiResourceLink to a course page: custom page=<name>, and a line item when it holds a worksheet."""

    @classmethod
    def of(cls, page: Page, launch_url: str, line_items: bool = True) -> "PageLink":
        link = cls()
        link.set_title(page.title).set_url(launch_url).set_custom_params({"page": page.name})
        if page.worksheet is not None and line_items:
            link.set_lineitem(LineItem().set_score_maximum(page.worksheet.score_maximum).set_label(page.title))
        return link


def response_jwt(request: DeepLinkRequest, pages: Sequence[Page], launch_url: str) -> str:
    """The signed LtiDeepLinkingResponse with one resource link per page; LookupError without a registration."""
    registration = DbToolConf().find_registration_by_params(request.issuer, request.client_id)
    if registration is None:
        raise LookupError(f"no registration for {request.issuer!r} / {request.client_id!r}")
    deep_link = ToolDeepLink(registration, request.deployment_id, request.settings)
    return deep_link.get_response_jwt([PageLink.of(p, launch_url, request.accept_line_items) for p in pages])
