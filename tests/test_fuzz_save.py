"""Property-based fuzzing of the save endpoints over HTTP (the autosave's JSON and the no-script form):
never a 500, never invalid data stored, and a refusal (4xx) changes nothing stored."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tests.worksheet_client import Learner, forget, stored

COLUMNS = ("partnership", "type", "strengths", "weaknesses", "improvement")
LIMITS = {"partnership": 200, "strengths": 1000, "weaknesses": 1000, "improvement": 1000}
QUESTIONS = ("connect-colleagues", "leverage-relationships", "talk-more", "never-thought")
PERSON = "u-load-9000"
FORM_PERSON = "u-load-9001"
INCOMPLETE = "It is not complete yet: see the checklist."

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


def assert_valid(submission, rows) -> None:
    """What is stored is a worksheet the form would accept."""
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


def worksheet(person: str, app) -> tuple:
    """(version, answers, rows) stored for the person: what a refusal must leave as it was."""
    submission, rows, _ = stored(app, person)
    return (None, None, []) if submission is None else (submission.version, submission.answers, rows)


def assert_refusal_changed_nothing(before: tuple, after: tuple, status: int, incomplete: bool) -> None:
    """A 4xx leaves the version, the answers and the rows as they were; except a submit of an incomplete worksheet
    (422), which keeps what was written as a draft (submissions.save): the version moves on by one."""
    if incomplete:
        assert status == 422
        assert after[0] == (before[0] or 0) + 1, (before[0], after[0])
    else:
        assert after == before, f"a {status} changed what is stored"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=payload)
# Every kind of answer, whatever is drawn: a save, refusals by the form (422), a conflict (409), an incomplete submit.
@example(body={"rows": [{"partnership": "First"}], "action": "save"})
@example(body={"rows": [{"partnership": "x" * 201}], "action": "save"})
@example(body={"rows": [{"partnership": "Club", "type": "sometimes"}], "answers": {"talk-more": "z" * 3001}})
@example(body={"rows": [{"partnership": "Stale"}], "base_version": 10**12})
@example(body={"rows": [{"partnership": "Only a name"}], "action": "submit"})
def test_save_never_500s_and_stores_only_valid_data(tool, learner, body):
    current = stored(tool.app, PERSON)[0]
    before = worksheet(PERSON, tool.app)
    base = body.get("base_version")
    if base is None and current is not None:
        base = current.version  # mostly saves that should succeed; drawn versions probe conflicts
    data = {k: v for k, v in body.items() if k not in ("base_version", "action")}
    response = learner.http.post(f"{learner.base_url}/api/worksheet", json={**data, "base_version": base,
                                 "action": body.get("action", "save")}, headers=learner.headers())
    assert response.status_code in (200, 400, 409, 422), response.text[:300]
    event(f"answered {response.status_code}" + (" (incomplete)" if response.status_code == 422 and response.json().get("incomplete") else ""))
    submission, rows, _ = stored(tool.app, PERSON)
    assert_valid(submission, rows)
    after = worksheet(PERSON, tool.app)
    if response.status_code == 200:
        assert response.json()["version"] == after[0] == (before[0] or 0) + 1
    else:
        answer = response.json()
        assert_refusal_changed_nothing(before, after, response.status_code, incomplete=answer.get("incomplete") is True)
        if answer.get("incomplete"):
            assert answer["version"] == after[0]


# --- the no-script form ---------------------------------------------------------------------------

form_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["", "formal", "informal", " formal", "FORMAL", "x" * 200, "x" * 201, "y" * 1001, "z" * 3000, "z" * 3001, "<script>", "  "])
row_field = st.builds(lambda i, c: f"rows-{i}-{c}", st.integers(-1, 33) | st.sampled_from([99999999999, 10**30]),
                      st.sampled_from(COLUMNS + ("extra",)))
form_field = row_field | st.sampled_from([f"q_{q}" for q in QUESTIONS] + ["q_nope", "rows", "rows-", "rows-0", "extra"])
form_action = st.sampled_from(["save", "submit", "keep-mine", "add", "remove-0", "remove-2", "up-1", "down-0", "down-99",
                               "up-\u00b2", "remove-" + "9" * 7, "delete", ""]) | st.text(max_size=8)
# base_version None: the version the page holds (saves that should succeed); drawn versions probe conflicts.
form_post = st.fixed_dictionaries({
    "fields": st.dictionaries(form_field, form_text, max_size=40),
    "action": st.none() | form_action,
    "base_version": st.tuples(st.integers(0, 3), st.integers(-2, 10**12).map(str) | st.text(max_size=5)).map(
        lambda drawn: drawn[1] if drawn[0] == 0 else None),
})


@pytest.fixture(scope="module")
def form_learner(tool):
    forget(tool.app, FORM_PERSON)
    return Learner.launch(tool.base_url, FORM_PERSON)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(post=form_post)
@example(post={"fields": {"rows-0-partnership": "First"}, "action": "save", "base_version": None})
@example(post={"fields": {"rows-0-partnership": "x" * 201}, "action": "save", "base_version": None})
@example(post={"fields": {"rows-0-partnership": "Club", "rows-0-type": "sometimes"}, "action": "add", "base_version": None})
@example(post={"fields": {"rows-0-partnership": "Stale"}, "action": None, "base_version": str(10**12)})
@example(post={"fields": {"rows-0-partnership": "Only a name"}, "action": "submit", "base_version": None})
@example(post={"fields": {"rows-0-partnership": "A", "rows-1-partnership": "B"}, "action": "up-1", "base_version": None})
def test_the_no_script_form_never_500s_and_stores_only_valid_data(tool, form_learner, post):
    """learner.post_form: Save draft, Submit and the row buttons, with any fields, names and values."""
    before = worksheet(FORM_PERSON, tool.app)
    fields = dict(post["fields"])
    if post["action"] is not None:
        fields["action"] = post["action"]
    drawn = post["base_version"]
    fields["base_version"] = drawn if drawn is not None else "" if before[0] is None else str(before[0])
    response = form_learner.post_form(fields, allow_redirects=False, timeout=30)
    event(f"answered {response.status_code}" + (" (incomplete)" if INCOMPLETE in response.text else ""))
    assert response.status_code in (200, 303, 409, 422), (response.status_code, response.text[:300])
    submission, rows, _ = stored(tool.app, FORM_PERSON)
    assert_valid(submission, rows)
    after = worksheet(FORM_PERSON, tool.app)
    if response.status_code in (200, 303):  # a row button shows the page again (200); Save and Submit redirect
        assert after[0] == (before[0] or 0) + 1
    else:
        assert_refusal_changed_nothing(before, after, response.status_code, incomplete=INCOMPLETE in response.text)


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
