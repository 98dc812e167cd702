"""The course's activities: the two built in (roster.ACTIVITIES) and those added by deep linking."""
from __future__ import annotations

import json
import sqlite3
import time

from . import ags, roster, store

ADDED_CMID_BASE = 100


def _from_row(row: sqlite3.Row) -> roster.Activity:
    return roster.Activity(
        resource_link_id=row["resource_link_id"], title=row["title"], cmid=ADDED_CMID_BASE + row["id"],
        custom=json.loads(row["custom"]), line_item_id=row["line_item_id"],
    )


def added() -> list[roster.Activity]:
    """Activities added through deep linking, oldest first."""
    with store.connection() as conn:
        return [_from_row(r) for r in conn.execute("SELECT * FROM activities ORDER BY id")]


def all_activities() -> list[roster.Activity]:
    """Every activity of the course."""
    return [*roster.ACTIVITIES, *added()]


def find(resource_link_id: str | None) -> roster.Activity | None:
    """The activity with this resource link id, built in or added; None when there is none."""
    if not resource_link_id:
        return None
    built_in = roster.activity(resource_link_id)
    if built_in is not None:
        return built_in
    with store.connection() as conn:
        row = conn.execute("SELECT * FROM activities WHERE resource_link_id = ?", (resource_link_id,)).fetchone()
    return None if row is None else _from_row(row)


def add(title: str, custom: dict[str, str], line_item: dict | None, text: str = "") -> roster.Activity:
    """Add a resource link (and its line item, when the tool asked for one) to the course."""
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO activities (resource_link_id, title, text, custom, created_at) VALUES (?, ?, ?, ?, ?)",
            ("pending", title, text, json.dumps(custom, ensure_ascii=False), time.time()),
        )
        row_id = cursor.lastrowid
        link_id = f"rl-added-{row_id}"
        item_id = None
        if line_item is not None:
            item_id = ags.insert_lineitem(conn, roster.COURSE.context_id, {**line_item, "resource_link_id": link_id})
        conn.execute("UPDATE activities SET resource_link_id = ?, line_item_id = ? WHERE id = ?", (link_id, item_id, row_id))
    return find(link_id)


def remove_added() -> None:
    """Remove every added activity and its line items and results."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM results WHERE lineitem_id IN (SELECT line_item_id FROM activities)")
        conn.execute("DELETE FROM lineitems WHERE id IN (SELECT line_item_id FROM activities)")
        conn.execute("DELETE FROM activities")
