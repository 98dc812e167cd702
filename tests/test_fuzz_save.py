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


# --- the autosave's quick check agrees with the form ----------------------------------------------

edge = st.sampled_from(["y" * 200, "y" * 201, "y" * 1000, "y" * 1001, "z" * 3000, "z" * 3001, " formal", "formal ",
                        "FORMAL", "  ", "\t", "  padded  "])
edge_value = value | edge
edge_row = st.dictionaries(st.sampled_from(COLUMNS + ("extra",)), edge_value, max_size=6) | junk
edge_payload = st.fixed_dictionaries({}, optional={
    "rows": st.lists(edge_row, max_size=33) | junk,
    "answers": st.dictionaries(st.sampled_from(QUESTIONS + ("nope",)), edge_value, max_size=5) | junk,
})


@pytest.fixture(scope="module")
def form_checks(tmp_path_factory):
    """quick_values and the form, for the course's worksheet, with the CSRF token of one launch."""
    from lti_tool import create_app, pages
    from lti_tool.lti import launch_token
    from lti_tool.lti.launch_token import LaunchIdentity
    from lti_tool.worksheets import build_form, form_values, json_to_formdata, quick_values

    folder = tmp_path_factory.mktemp("quick")
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'q.sqlite3'}", "SECRET_KEY": "k" * 32})
    identity = LaunchIdentity.new(platform_id=1, deployment_pk=1, course_id=1, activity_id=1, person_id=1, role="learner")
    csrf = launch_token.csrf_token(identity, "k" * 32)
    with app.test_request_context("/api/worksheet", method="POST"):
        spec = pages.load("relationships").worksheet

        def by_form(body):
            form = build_form(spec, identity, "k" * 32, formdata=json_to_formdata(spec, body, csrf))
            return form_values(spec, form) if form.validate() else None

        yield spec, (lambda body: quick_values(spec, body)), by_form


# The worksheet's radio choices are (value, label) tuples, which WTForms 3.3 deprecates (the server ignores the warning).
TUPLE_CHOICES = pytest.mark.filterwarnings("ignore:Passing SelectField choices as tuples:DeprecationWarning")


@TUPLE_CHOICES
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=edge_payload)
def test_quick_check_accepts_only_what_the_form_accepts(form_checks, body):
    _, quick, by_form = form_checks
    data = quick(body)
    if data is not None:
        assert by_form(body) == data


@TUPLE_CHOICES
def test_quick_check_takes_an_ordinary_worksheet(form_checks):
    _, quick, by_form = form_checks
    body = {"rows": [{"partnership": f" Club {i} ", "type": "formal" if i % 2 else "", "strengths": "x" * 1000,
                      "weaknesses": "", "improvement": "Meet"} for i in range(30)] + [{c: "" for c in COLUMNS}],
            "answers": {q: "z" * 3000 for q in QUESTIONS}}
    body["rows"].pop(0)  # 30 rows, the last one blank
    assert quick(body) is not None and quick(body) == by_form(body)
    assert quick({"rows": [{"type": "formal "}]}) is None and by_form({"rows": [{"type": "formal "}]}) is None
