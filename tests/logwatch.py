"""The part of a running tool's log written since a test began (the tool fixture serves the whole session)."""
from __future__ import annotations

import re
import time
from pathlib import Path

# The line launch_error_page (lti_tool/views/lti.py) logs for every refusal.
REFUSAL = re.compile(r"launch refused: (?P<code>\S+) \((?P<detail>.*)\) path=(?P<path>\S+)$", re.M)


class LogWatch:
    """The part of the tool's log written after this watch was made."""

    def __init__(self, tool):
        self.path: Path = tool.log_path
        self.offset = self.path.stat().st_size

    def text(self) -> str:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = 3) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            time.sleep(0.05)
        return False

    def refused(self, code: str = "") -> bool:
        """True once the tool logged `launch refused: <code>` (any code when code is empty)."""
        return self.wait_for(f"launch refused: {code}")

    def refusals(self, timeout: float = 3) -> list[tuple[str, str, str]]:
        """(code, detail, path) of each refusal logged since the watch was made; waits for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [(m["code"], m["detail"], m["path"]) for m in REFUSAL.finditer(self.text())]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
