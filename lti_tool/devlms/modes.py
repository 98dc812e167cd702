"""The two ways the practice LMS can behave: like Moodle 4.5 or like hosted Canvas."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .roster import Person
from .settings import Settings

CANVAS_ISSUER = "https://canvas.instructure.com"


@dataclass(frozen=True)
class Mode:
    """What differs between the platforms: identity, token lifetime, claim shapes, service rules."""

    name: str
    title: str
    client_id: str
    product_family_code: str
    platform_version: str
    id_token_lifetime: int

    @property
    def is_moodle(self) -> bool:
        return self.name == "moodle"

    @property
    def is_canvas(self) -> bool:
        return self.name == "canvas"

    def issuer(self, settings: Settings) -> str:
        """Moodle's iss is its wwwroot; every hosted Canvas says https://canvas.instructure.com."""
        return settings.base_url if self.is_moodle else CANVAS_ISSUER

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
    """The mode registered under this client id, or None."""
    return next((m for m in MODES.values() if m.client_id == client_id), None)
