"""Log lines of the tool's own loggers (lti_tool.*): one format on stderr, level from LOG_LEVEL."""
from __future__ import annotations

import logging
import sys

from flask import g, has_request_context

FORMAT = "%(asctime)s %(levelname)s %(name)s rid=%(request_id)s: %(message)s"


class RequestId(logging.Filter):
    """Every line names the request it belongs to (the X-Request-Id the tool answers with), or '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure(level: str) -> None:
    """Idempotent: the app factory may run more than once in a process (CLI, tests)."""
    logger = logging.getLogger("lti_tool")
    logger.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    if not any(getattr(h, "_lti_tool", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestId())
        handler._lti_tool = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
