"""How a worksheet's columns are stored, read with plain SQL: what the ORM wrote and what the autosave's
prepared statements (lti_tool/prepared.py) wrote must look the same to the database."""
from __future__ import annotations

import json

from sqlalchemy import text


def raw_submission(app, sub: str) -> dict:
    from lti_tool.extensions import db

    with app.app_context():
        row = db.session.execute(text(
            "SELECT s.id, s.version, s.answers, s.updated_at, s.status FROM submission s JOIN person p ON p.id = s.person_id "
            "WHERE p.sub = :sub"), {"sub": sub}).mappings().one()
        entries = db.session.execute(text(
            'SELECT position, "values", name_key FROM entry WHERE submission_id = :id ORDER BY position'),
            {"id": row["id"]}).all()
        db.session.remove()
    return {**row, "entries": entries}


def as_json(value):
    return json.loads(value) if isinstance(value, str) else value


def check_saves_store_like_the_orm(app, learner, sub: str) -> None:
    """A first save (the ORM path) then a second (the prepared statements): same shapes in the database,
    and the ORM reads both back."""
    from tests.worksheet_client import complete_data, row, stored

    data = complete_data()
    data["rows"] = [row("Boys & Girls Club", "Space", "Hours", "Meet", "formal"), row("  Teen Board ", "Ideas", "", "", "")]
    first = learner.autosave(data, None)
    assert first.status_code == 200, first.text
    by_orm = raw_submission(app, sub)
    data["answers"]["talk-more"] = "Ask the PTA — and the makerspace «crew»"
    second = learner.autosave(data, first.json()["version"])
    assert second.status_code == 200, second.text
    by_fast_path = raw_submission(app, sub)
    assert by_fast_path["version"] == by_orm["version"] + 1
    assert type(by_fast_path["updated_at"]) is type(by_orm["updated_at"])
    if isinstance(by_orm["updated_at"], str):  # SQLite: the same text format, which sorts as time does
        assert len(by_fast_path["updated_at"]) == len(by_orm["updated_at"]) and by_fast_path["updated_at"] > by_orm["updated_at"]
    assert as_json(by_fast_path["answers"])["talk-more"] == "Ask the PTA — and the makerspace «crew»"
    assert [(p, as_json(v), k) for p, v, k in by_fast_path["entries"]] == [(p, as_json(v), k) for p, v, k in by_orm["entries"]]
    submission, rows, _ = stored(app, sub)
    assert submission.version == by_fast_path["version"] and submission.updated_at.year >= 2026
    assert rows[1]["partnership"] == "Teen Board" and submission.answers["talk-more"].endswith("«crew»")
