"""Row buttons of the worksheet when scripts are off: add, remove, move up, move down."""
from __future__ import annotations

EMPTY: dict[str, str] = {}


def parse_action(raw: str | None) -> tuple[str, int]:
    """'remove-2' -> ('remove', 2); 'save' -> ('save', -1). Unknown actions save a draft."""
    raw = raw or "save"
    name, _, index = raw.partition("-")
    if name in ("remove", "up", "down") and index.isascii() and index.isdigit() and len(index) <= 6:
        return name, int(index)
    if name == "keep" and raw == "keep-mine":
        return "keep-mine", -1
    return (name if name in ("save", "submit", "add") else "save"), -1


def apply_row_action(rows: list[dict[str, str]], action: str, index: int, max_rows: int) -> list[dict[str, str]]:
    """The rows after one button press; always at least one (blank) row to type into."""
    rows = list(rows)
    if action == "add" and len(rows) < max_rows:
        rows.append(dict(EMPTY))
    elif action == "remove" and 0 <= index < len(rows):
        rows.pop(index)
    elif action == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif action == "down" and 0 <= index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return rows or [dict(EMPTY)]
