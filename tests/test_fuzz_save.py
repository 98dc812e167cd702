"""Property-based fuzzing of the save endpoint over HTTP: never a 500, never invalid data stored."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.worksheet_client import Learner, forget, stored

COLUMNS = ("partnership", "type", "strengths", "weaknesses", "improvement")
LIMITS = {"partnership": 200, "strengths": 1000, "weaknesses": 1000, "improvement": 1000}
QUESTIONS = ("connect-colleagues", "leverage-relationships", "talk-more", "never-thought")
PERSON = "u-load-9000"

text = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(["", "formal", "informal", "x" * 201, "<script>"])
junk = st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() | st.lists(st.integers(), max_size=2)
value = text | junk
row = st.dictionaries(st.sampled_from(COLUMNS + ("extra", "__proto__")), value, max_size=6) | junk
payload = st.fixed_dictionaries({}, optional={
    "rows": st.lists(row, max_size=35) | junk,
    "answers": st.dictionaries(st.sampled_from(QUESTIONS + ("nope",)), value, max_size=5) | junk,
    "base_version": st.none() | st.integers(-2, 10**12) | st.text(max_size=5),
    "action": st.sampled_from(["save", "submit", "keep-mine", "delete", ""]) | junk,
})


@pytest.fixture(scope="module")
def learner(tool):
    forget(tool.app, PERSON)
    return Learner.launch(tool.base_url, PERSON)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=payload)
def test_save_never_500s_and_stores_only_valid_data(tool, learner, body):
    current = stored(tool.app, PERSON)[0]
    base = body.get("base_version")
    if base is None and current is not None:
        base = current.version  # mostly saves that should succeed; drawn versions probe conflicts
    data = {k: v for k, v in body.items() if k not in ("base_version", "action")}
    response = learner.http.post(f"{learner.base_url}/api/worksheet", json={**data, "base_version": base,
                                 "action": body.get("action", "save")}, headers=learner.headers())
    assert response.status_code in (200, 400, 409, 422), response.text[:300]
    submission, rows, _ = stored(tool.app, PERSON)
    if submission is None:
        return
    assert len(rows) <= 30
    for values in rows:
        assert set(values) == set(COLUMNS)
        assert all(isinstance(v, str) for v in values.values())
        assert values["type"] in ("", "formal", "informal")
        assert all(len(values[c]) <= n for c, n in LIMITS.items())
        assert any(values.values()), "blank rows are never stored"
    assert set(submission.answers) <= set(QUESTIONS) and all(isinstance(a, str) and len(a) <= 3000 for a in submission.answers.values())
