"""The two ways the practice LMS can behave: like Moodle 4.5 or like hosted Canvas.

A tool registered by LTI Dynamic Registration (clients.py) gets a Mode of its own: the behaviour of the
mode it registered in, with its client id, the issuer and deployment it was given, and the URLs, scopes
and claims it registered. Every launch and service call finds it by client id (by_client_id).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from .roster import Person
from .settings import Settings

CANVAS_ISSUER = "https://canvas.instructure.com"


@dataclass(frozen=True)
class ToolClient:
    """What a tool registered dynamically: its URLs, scopes and claims, and what the LMS gave it."""

    client_id: str
    issuer: str
    deployment_id: str
    name: str
    login_url: str
    redirect_uris: tuple[str, ...]
    jwks_url: str
    target_link_uri: str
    scopes: tuple[str, ...]
    claims: tuple[str, ...]


@dataclass(frozen=True)
class Mode:
    """What differs between the platforms: identity, token lifetime, claim shapes, service rules."""

    name: str
    title: str
    client_id: str
    product_family_code: str
    platform_version: str
    id_token_lifetime: int
    registered: ToolClient | None = None  # a client registered by dynamic registration

    @property
    def is_moodle(self) -> bool:
        return self.name == "moodle"

    @property
    def is_canvas(self) -> bool:
        return self.name == "canvas"

    def issuer(self, settings: Settings) -> str:
        """Moodle's iss is its wwwroot; every hosted Canvas says https://canvas.instructure.com.

        A dynamically registered client: the issuer its openid-configuration named (the LMS's base URL,
        as a self-hosted Canvas whose issuer is its own address)."""
        if self.registered is not None:
            return self.registered.issuer
        return settings.base_url if self.is_moodle else CANVAS_ISSUER

    def deployment_id(self, settings: Settings) -> str:
        return self.registered.deployment_id if self.registered is not None else settings.deployment_id

    def tool_login_url(self, settings: Settings) -> str:
        return self.registered.login_url if self.registered is not None else settings.tool_login_url

    def tool_launch_url(self, settings: Settings) -> str:
        """The target_link_uri of launches."""
        return self.registered.target_link_uri if self.registered is not None else settings.tool_launch_url

    def redirect_uris(self, settings: Settings) -> tuple[str, ...]:
        return self.registered.redirect_uris if self.registered is not None else (settings.tool_launch_url,)

    def tool_jwks_url(self, default: str) -> str:
        return self.registered.jwks_url if self.registered is not None else default

    def tool_base_url(self, settings: Settings) -> str:
        """What every URL of the tool starts with (deep linking items must point there)."""
        if self.registered is None:
            return settings.tool_base_url
        parts = urlsplit(self.registered.target_link_uri)
        return f"{parts.scheme}://{parts.netloc}"

    def sends_claim(self, name: str) -> bool:
        """Whether id_tokens carry this identity claim (a registered client gets the ones it asked for)."""
        return self.registered is None or name in self.registered.claims

    def grants_scope(self, scope: str) -> bool:
        return self.registered is None or scope in self.registered.scopes

    def login_hint(self, person: Person) -> str:
        """Moodle sends the user id; Canvas an opaque per-user value."""
        if self.is_moodle:
            return person.user_id
        return hashlib.sha256(f"canvas-login:{person.user_id}".encode()).hexdigest()[:40]

    def context_type(self) -> list[str]:
        """Moodle 4.5 was seen sending the short name; Canvas the full URI."""
        if self.is_moodle:
            return ["CourseSection"]
        return ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]


MOODLE = Mode("moodle", "Moodle 4.5", "practice-moodle", "moodle", "2024100700", 60)
CANVAS = Mode("canvas", "Canvas", "practice-canvas", "canvas", "cloud", 3600)
MODES: dict[str, Mode] = {m.name: m for m in (MOODLE, CANVAS)}


def by_name(name: str | None) -> Mode | None:
    """The mode called name ("moodle" or "canvas"), or None."""
    return MODES.get(name or "")


def by_client_id(client_id: str | None) -> Mode | None:
    """The mode registered under this client id (a dynamically registered client's own), or None."""
    found = next((m for m in MODES.values() if m.client_id == client_id), None)
    if found is None and client_id:
        from . import clients  # clients builds on this module

        found = clients.mode_for(client_id)
    return found
