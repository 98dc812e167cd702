"""The UI language: the launch's locale (launch_presentation.locale) when we ship it, else English."""
from __future__ import annotations

from flask import g, request

SUPPORTED = ("en", "es")


def select_locale() -> str:
    launch = g.get("launch")
    wanted = launch.locale if launch is not None else (request.accept_languages.best_match(SUPPORTED) or "en")
    base = (wanted or "en").replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else "en"
