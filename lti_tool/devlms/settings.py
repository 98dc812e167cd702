"""The practice LMS's settings, read from the host app's config, and the URLs derived from them."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app

DEFAULT_TOOL_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_DEPLOYMENT_ID = "1"
PREFIX = "/dev/lms"


@dataclass(frozen=True)
class Settings:
    """Where the tool and the practice LMS live, and the LMS's deployment id."""

    tool_base_url: str
    base_url: str
    db_path: str
    deployment_id: str

    # The tool's public URLs, as an admin would paste them into an LMS.
    @property
    def tool_login_url(self) -> str:
        return self.tool_base_url + "/lti/login"

    @property
    def tool_launch_url(self) -> str:
        return self.tool_base_url + "/lti/launch"

    @property
    def tool_jwks_url(self) -> str:
        return self.tool_base_url + "/.well-known/jwks.json"

    # The practice LMS's own endpoints.
    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks.json"

    @property
    def deep_link_return_url(self) -> str:
        return self.base_url + "/deep-link/return"

    def course_url(self, context_id: str) -> str:
        return f"{self.base_url}/courses/{context_id}"


def tool_base_url(config: Mapping) -> str:
    """TOOL_BASE_URL without a trailing slash."""
    return str(config.get("TOOL_BASE_URL") or DEFAULT_TOOL_BASE_URL).rstrip("/")


def lms_base_url(config: Mapping) -> str:
    """DEVLMS_BASE_URL, by default the tool's base URL + /dev/lms."""
    return str(config.get("DEVLMS_BASE_URL") or tool_base_url(config) + PREFIX).rstrip("/")


def deployment_id(config: Mapping) -> str:
    """DEVLMS_DEPLOYMENT_ID as a string (default "1")."""
    value = config.get("DEVLMS_DEPLOYMENT_ID")
    return DEFAULT_DEPLOYMENT_ID if value in (None, "") else str(value)


def from_config(config: Mapping, instance_path: str) -> Settings:
    """Settings for an app whose config and instance folder are given."""
    db_path = config.get("DEVLMS_DB_PATH") or os.path.join(instance_path, "devlms.sqlite3")
    return Settings(
        tool_base_url=tool_base_url(config),
        base_url=lms_base_url(config),
        db_path=str(db_path),
        deployment_id=deployment_id(config),
    )


def current() -> Settings:
    """Settings of the app handling this request (or in the current app context)."""
    return from_config(current_app.config, current_app.instance_path)
