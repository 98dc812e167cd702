"""Issue 7's attack battery: the parts that tests/test_launch_failures.py, test_body_limits.py, test_fuzz_save.py,
test_instructor.py, test_worksheet_http.py and test_deep_linking.py do not already cover.

Over real HTTP against the gunicorn tool and its practice LMS:
- id_tokens signed HS256 with the tool's or the platform's public key (PEM and JWK forms: key confusion), alg none
  in other spellings, an oversized id_token, id_tokens whose segments are not JSON objects, and validly signed
  id_tokens whose claims have the wrong JSON types: a 4xx (never a 500), and "launch refused: <code>" logged;
- malformed JSON and odd values sent to the save endpoints: a 4xx, never a 500, nothing stored;
- a tampered deep linking answer, at the tool's picker and at the LMS that receives the signed response;
- every route of the tool that needs a launch, with a learner's, an instructor's, another course's instructor's,
  an expired, a deep linking and no launch token (a new route fails the matrix until it is added to it);
- CSRF on every POST route (the LTI endpoints the LMS posts to are listed as exceptions, with their own checks);
- script payloads in every learner field and in every name and title the LMS supplies, on every page and export.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

import jwt
import pytest
import requests
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.logwatch import LogWatch
from tests.lms import Browser, b64, parse_form, resign, submit, unverified
from tests.worksheet_client import QUESTIONS, Learner, row, stored

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LIS = "http://purl.imsglobal.org/vocab/lis/v2"
LEARNER_ROLES = [f"{LIS}/membership#Learner", f"{LIS}/institution/person#Student"]
INSTRUCTOR_ROLES = [f"{LIS}/membership#Instructor", f"{LIS}/institution/person#Faculty"]
TIMEOUT = 30


# --- helpers -------------------------------------------------------------------------------------



def refused(response: requests.Response, watch: LogWatch, code: str, status: int = 400, detail: str = "") -> None:
    """A refused launch: the status, the error page naming the code, and the log line
    (`launch refused: <code> (<detail>) path=...`, its detail starting with `detail` when given)."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:1500]}"
    assert "What to do" in response.text, response.text[:1500]
    assert watch.refused(code), f"no 'launch refused: {code}' in the log:\n{watch.text()[-3000:]}"
    if detail:
        assert watch.wait_for(f"launch refused: {code} ({detail}"), f"no {code} ({detail}...) in the log:\n{watch.text()[-3000:]}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header: dict, body: dict, secret: bytes) -> str:
    """A JWT MACed with HS256 by hand (PyJWT rightly refuses a PEM as an HMAC secret, an attacker does not)."""
    signing_input = f"{b64(header)}.{b64(body)}"
    return f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def rs256_raw(header: dict, body: dict, private_key) -> str:
    """A JWT signed RS256 over any JSON body (PyJWT's encode refuses some of the odd claim types we want to send)."""
    return jwt.PyJWS().encode(json.dumps(body).encode(), private_key, algorithm="RS256", headers=header)


def login_fields(browser: Browser, person: str = "u-learner-1", **kwargs) -> dict:
    """A real login through the practice LMS: the form it posts to the tool (id_token, state)."""
    return browser.authorize(browser.start(person, **kwargs)).fields


def launch_with(tool, lms_key, person: str = "u-learner-1", *, claims: dict | None = None, drop: tuple = (),
                message: str | None = None) -> tuple[Browser, requests.Response]:
    """A launch whose id_token the LMS signed with these claims changed (as a real LMS could send them)."""
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start(person, message=message))
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims=claims or {}, drop=drop)
    return browser, submit(browser.http, form)


def tokens_of(response: requests.Response) -> tuple[str, str]:
    node = BeautifulSoup(response.text, "html.parser").find(id="launch")
    assert node is not None, response.text[:2000]
    return node["data-launch-token"], node["data-csrf-token"]


def expired(token: str, secret_key: str) -> str:
    """The same launch identity in a token signed a day ago (launch tokens live 4 hours)."""
    from lti_tool.lti import launch_token

    identity = launch_token.read(token, secret_key, 3600)

    class Yesterday(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 86400

    return URLSafeTimedSerializer(secret_key, salt=launch_token.SALT, signer=Yesterday).dumps(asdict(identity))


def person_id(tool, sub: str) -> int:
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Person

    with tool.app.app_context():
        return db.session.scalars(select(Person.id).where(Person.sub == sub)).one()


def public_keys(tool) -> dict[str, tuple[dict, rsa.RSAPublicKey]]:
    """The first key of the tool's and of the practice LMS's published JWKS: (jwk, public key)."""
    found = {}
    for who, path in (("tool", "/.well-known/jwks.json"), ("platform", "/dev/lms/jwks.json")):
        jwk = requests.get(tool.base_url + path, timeout=TIMEOUT).json()["keys"][0]
        found[who] = (jwk, jwt.PyJWK(jwk, algorithm="RS256").key)
    return found


# --- key confusion and alg --------------------------------------------------------------------------

def _secret(form: str, jwk: dict, key: rsa.RSAPublicKey) -> bytes:
    spki = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pkcs1 = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    return {
        "pem": spki,
        "pem-no-newline": spki.rstrip(b"\n"),
        "pem-pkcs1": pkcs1,
        "der": key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "jwk-json": json.dumps(jwk).encode(),
        "jwk-json-compact": json.dumps(jwk, separators=(",", ":")).encode(),
        "modulus": jwk["n"].encode(),
    }[form]


@pytest.mark.parametrize("form", ["pem", "pem-no-newline", "pem-pkcs1", "der", "jwk-json", "jwk-json-compact", "modulus"])
@pytest.mark.parametrize("whose", ["platform", "tool"])
def test_hs256_signed_with_a_public_key_is_refused(tool, browser, watch, whose, form):
    """The classic key confusion: HS256 with a published RSA public key as the HMAC secret."""
    jwk, key = public_keys(tool)[whose]
    fields = login_fields(browser)
    header, body = unverified(fields["id_token"])
    fields["id_token"] = hs256({"alg": "HS256", "typ": "JWT", "kid": header["kid"] if whose == "platform" else jwk["kid"]},
                               body, _secret(form, jwk, key))
    response = browser.post_launch(fields)
    refused(response, watch, "unsupported_alg")
    assert "algorithm" in response.text


def test_hmac_under_an_rs256_header_is_refused(tool, browser, watch):
    """The same MAC with the header claiming RS256: the RSA check fails it."""
    jwk, key = public_keys(tool)["platform"]
    fields = login_fields(browser)
    header, body = unverified(fields["id_token"])
    fields["id_token"] = hs256({**header, "alg": "RS256"}, body, _secret("pem", jwk, key))
    refused(browser.post_launch(fields), watch, "bad_signature")


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE", "", None, "HS512", "RS512", "PS256", "ES256", "EdDSA"])
@pytest.mark.parametrize("keep_signature", [False, True])
def test_other_algorithms_and_spellings_of_none_are_refused(browser, watch, alg, keep_signature):
    fields = login_fields(browser)
    header, body = unverified(fields["id_token"])
    signature = fields["id_token"].rsplit(".", 1)[1] if keep_signature else ""
    header = {k: v for k, v in {**header, "alg": alg}.items() if v is not None}
    fields["id_token"] = f"{b64(header)}.{b64(body)}.{signature}"
    refused(browser.post_launch(fields), watch, "unsupported_alg")


# --- RS256 with an empty or cut signature ----------------------------------------------------------

SIGNATURE_CUTS = {
    # 342 base64url characters for a 2048-bit key: one cut leaves a length no base64 has (PyJWT: bad padding);
    # a multiple of 4 left is a shorter, decodable signature that does not verify.
    "empty": (lambda s: "", "Signature verification failed"),
    "last character cut": (lambda s: s[:-1], "Invalid crypto padding"),
    "last two characters cut": (lambda s: s[:-2], "Signature verification failed"),
    "cut to 168 characters": (lambda s: s[:168], "Signature verification failed"),
    "first character cut": (lambda s: s[1:], "Invalid crypto padding"),
}


@pytest.mark.parametrize("case", list(SIGNATURE_CUTS))
def test_an_rs256_id_token_with_an_empty_or_cut_signature_is_refused(browser, watch, case):
    """The LMS's own id_token, its signature segment emptied or truncated: header and body are intact."""
    cut, detail = SIGNATURE_CUTS[case]
    fields = login_fields(browser)
    header, body, signature = fields["id_token"].split(".")
    assert len(signature) == 342
    fields["id_token"] = f"{header}.{body}.{cut(signature)}"
    refused(browser.post_launch(fields), watch, "bad_signature", detail=detail)
    assert "launch accepted" not in watch.text()


# --- oversized id_tokens ----------------------------------------------------------------------------

def _token_of_length(token: str, private_key, length: int) -> str:
    """The id_token signed again with a padding claim (and a header field) making it exactly `length` characters."""
    def signed(pad: int, extra: int) -> str:
        return resign(token, private_key, claims={"padding": "x" * pad}, header={"x": "y" * extra})

    pad = 0
    for _ in range(5):  # each padding character is 4/3 of a base64url character
        pad = max(pad + (length - len(signed(pad, 0))) * 3 // 4, 0)
    for near in range(max(pad - 4, 0), pad + 5):
        for extra in range(6):  # the header's length moves the total by one where the body's cannot
            if len(candidate := signed(near, extra)) == length:
                return candidate
    raise AssertionError(f"no padding gives an id_token of {length} characters")


@pytest.mark.parametrize("delta", [-1, 0], ids=["one under the limit", "at the limit"])
def test_a_signed_id_token_up_to_the_length_limit_is_accepted(tool, browser, lms_key, watch, delta):
    """MAX_ID_TOKEN_LENGTH is the longest id_token read: one of that length is a launch like any other."""
    from lti_tool.lti.launch import MAX_ID_TOKEN_LENGTH

    form = browser.authorize(browser.start("u-learner-1"))
    form.fields["id_token"] = _token_of_length(form.fields["id_token"], lms_key, MAX_ID_TOKEN_LENGTH + delta)
    response = submit(browser.http, form)
    assert response.status_code == 200, response.text[:1500]
    tokens_of(response)  # the learner's page, with its launch token
    assert watch.wait_for("launch accepted: "), watch.text()[-3000:]
    assert "launch refused" not in watch.text()


@pytest.mark.parametrize("delta", [1, 2], ids=["one over the limit", "two over the limit"])
def test_a_signed_id_token_over_the_length_limit_is_400(tool, browser, lms_key, watch, delta):
    from lti_tool.lti.launch import MAX_ID_TOKEN_LENGTH

    fields = login_fields(browser)
    fields["id_token"] = _token_of_length(fields["id_token"], lms_key, MAX_ID_TOKEN_LENGTH + delta)
    refused(browser.post_launch(fields), watch, "malformed_token",
            detail=f"the id_token is {MAX_ID_TOKEN_LENGTH + delta} characters long, more than the {MAX_ID_TOKEN_LENGTH}")
    assert "launch accepted" not in watch.text()


def test_a_2_mb_id_token_is_413(tool, browser, lms_key, watch):
    fields = login_fields(browser)
    fields["id_token"] = resign(fields["id_token"], lms_key, claims={"padding": "x" * 2_000_000})
    response = browser.post_launch(fields)
    assert response.status_code == 413, response.text[:500]
    assert watch.wait_for('"POST /lti/launch" 413'), watch.text()[-2000:]
    assert "launch accepted" not in watch.text()


def test_a_forged_200_kb_id_token_is_refused_before_its_signature_is_checked(browser, watch):
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fields = login_fields(browser)
    header, _ = unverified(fields["id_token"])
    fields["id_token"] = resign(fields["id_token"], rogue, claims={"padding": "x" * 200_000}, header={"kid": header["kid"]})
    refused(browser.post_launch(fields), watch, "malformed_token", detail=f"the id_token is {len(fields['id_token'])} characters long")


def test_a_signed_200_kb_id_token_is_refused(tool, browser, lms_key, watch):
    """Real id_tokens are a few kB (Moodle ~4 kB, Canvas ~10 kB); 200 kB of claims is not a launch."""
    fields = login_fields(browser)
    fields["id_token"] = resign(fields["id_token"], lms_key, claims={"padding": "x" * 200_000})
    response = browser.post_launch(fields)
    refused(response, watch, "malformed_token", status=400,
            detail=f"the id_token is {len(fields['id_token'])} characters long, more than the 65536 a launch needs")
    assert "launch accepted" not in watch.text()


# --- malformed JSON in the id_token -----------------------------------------------------------------

def _segments(token: str) -> tuple[str, str, str]:
    header, body, signature = token.split(".")
    return header, body, signature


def _raw(text: str | bytes) -> str:
    return b64url(text.encode() if isinstance(text, str) else text)


def _decoded(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _header(raw: str | bytes):
    return lambda h, b, s: ".".join((_raw(raw), b, s))


def _body(raw: str | bytes):
    return lambda h, b, s: ".".join((h, _raw(raw), s))


MALFORMED_TOKENS = {
    "header not JSON": _header("{alg: RS256"),
    "header truncated JSON": lambda h, b, s: ".".join((_raw(_decoded(h)[:-3]), b, s)),
    "header a JSON array": _header('["RS256"]'),
    "header a JSON string": _header('"RS256"'),
    "header a JSON number": _header("256"),
    "header JSON null": _header("null"),
    "header not base64": lambda h, b, s: ".".join(("***", b, s)),
    "header not UTF-8": _header(b'{"alg": "RS256\xff"}'),
    "body not JSON": _body("{sub: 1"),
    "body truncated JSON": lambda h, b, s: ".".join((h, _raw(_decoded(b)[:-7]), s)),
    "body a JSON string": _body('"u-learner-1"'),
    "body a JSON number": _body("1e400"),
    "body JSON true": _body("true"),
    "body JSON null": _body("null"),
    "body not UTF-8": _body(b'{"sub": "\xc3\x28"}'),
    "body nested 100000 deep": _body("[" * 100_000 + "]" * 100_000),
    "body with a 5000-digit number": _body('{"exp": ' + "9" * 5000 + "}"),
    "body empty": lambda h, b, s: ".".join((h, "", s)),
    "two segments": lambda h, b, s: ".".join((h, b)),
    "four segments": lambda h, b, s: ".".join((h, b, s, s)),
    "only dots": lambda h, b, s: "....",
}


@pytest.mark.parametrize("case", list(MALFORMED_TOKENS))
def test_id_token_segments_that_are_not_json_objects_are_refused(browser, watch, case):
    fields = login_fields(browser)
    fields["id_token"] = MALFORMED_TOKENS[case](*_segments(fields["id_token"]))
    refused(browser.post_launch(fields), watch, "malformed_token")


WRONG_TYPES = [
    pytest.param({"exp": "soon"}, id="exp string"),
    pytest.param({"iat": [1]}, id="iat list"),
    pytest.param({"exp": float("inf")}, id="exp Infinity"),
    pytest.param({"nbf": 1e400}, id="nbf 1e400"),
    pytest.param({"aud": 5}, id="aud number"),
    pytest.param({"aud": {"client": "practice-moodle"}}, id="aud object"),
    pytest.param({"aud": []}, id="aud empty list"),
    pytest.param({"iss": ["x"]}, id="iss list"),
    pytest.param({"sub": 5}, id="sub number"),
    pytest.param({"nonce": ["n"]}, id="nonce list"),
    pytest.param({"azp": ["practice-moodle"]}, id="azp list"),
    pytest.param({LTI + "deployment_id": 1}, id="deployment_id number"),
    pytest.param({LTI + "version": 1.3}, id="version number"),
    pytest.param({LTI + "roles": "Learner"}, id="roles string"),
    pytest.param({LTI + "roles": [1, None, {}]}, id="roles of non-strings"),
    pytest.param({LTI + "message_type": ["LtiResourceLinkRequest"]}, id="message_type list"),
    pytest.param({LTI + "resource_link": "rl-relationships"}, id="resource_link string"),
    pytest.param({LTI + "context": "course-1"}, id="context string"),
    pytest.param({LTI + "context": ["course-1"]}, id="context list"),
    pytest.param({LTI + "custom": ["page"]}, id="custom list"),
    pytest.param({LTI + "launch_presentation": "iframe"}, id="launch_presentation string"),
    pytest.param({AGS: "x"}, id="ags endpoint string"),
    pytest.param({NRPS: "x"}, id="nrps claim string"),
    # Accepted, the odd values ignored: never a 500.
    pytest.param({LTI + "context": {"id": 5, "title": ["t"], "label": {}}}, id="context fields of other types"),
    pytest.param({LTI + "custom": {"page": 5}}, id="custom page number"),
    pytest.param({LTI + "launch_presentation": {"locale": 5}, "locale": ["en"]}, id="locale of other types"),
    pytest.param({"name": 5, "given_name": ["x"], "family_name": {}, "email": 7}, id="names of other types"),
    pytest.param({AGS: {"scope": "x", "lineitem": 5}, NRPS: {"context_memberships_url": 5}}, id="service claims of other types"),
]


@pytest.mark.parametrize("claims", WRONG_TYPES)
def test_signed_id_token_with_claims_of_the_wrong_json_type_never_500s(tool, browser, lms_key, watch, claims):
    """The signature is the LMS's own (a buggy LMS, not an attacker): a clear 4xx with a logged code, or a launch."""
    fields = login_fields(browser)
    header, body = unverified(fields["id_token"])
    body = {k: v for k, v in body.items() if k not in (AGS, NRPS)}  # in a course of its own, without services
    body.update({LTI + "context": {"id": "course-battery-types", "title": "Types"},
                 LTI + "resource_link": {"id": "rl-battery-types", "title": "Types"}, **claims})
    fields["id_token"] = rs256_raw({"alg": "RS256", "typ": "JWT", "kid": header["kid"]}, body, lms_key)
    response = browser.post_launch(fields)
    assert response.status_code < 500, watch.text()[-3000:]
    if response.status_code >= 400:
        assert watch.refused(), f"a {response.status_code} without a 'launch refused' log line"


# --- malformed JSON and odd values at the save endpoints ---------------------------------------------

BATTERY_LEARNER = "u-load-7301"


@pytest.fixture(scope="module")
def saver(tool) -> Learner:
    """A learner with one saved version, so a body that slipped through would change something visible."""
    from tests.worksheet_client import forget

    forget(tool.app, BATTERY_LEARNER)
    learner = Learner.launch(tool.base_url, BATTERY_LEARNER)
    assert learner.autosave({"rows": [row("Kept as it was")], "answers": {}}, None).status_code == 200
    return learner


MALFORMED_BODIES = {
    "empty": b"",
    "truncated": b'{"rows": [{"partnership": "Half',
    "trailing garbage": b'{"rows": [], "answers": {}} x',
    "single quotes": b"{'rows': []}",
    "a JSON array": b'[{"rows": []}]',
    "a JSON string": b'"rows"',
    "a JSON number": b"1e400",
    "JSON null": b"null",
    "not UTF-8": b'{"rows": [{"partnership": "\xff\xfe"}], "answers": {}}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "rows nested 5000 deep": b'{"rows": ' + b"[" * 5000 + b"]" * 5000 + b', "answers": {}}',
    "a 5000-digit number": b'{"rows": [], "answers": {}, "base_version": ' + b"9" * 5000 + b"}",
}


def snapshot(tool) -> tuple:
    submission, rows, revisions = stored(tool.app, BATTERY_LEARNER)
    return submission.version, submission.answers, rows, len(revisions)


def access_logged(watch: LogWatch, method: str, path: str, status: int, request_id: str) -> str:
    """The access log line of one request (named by the X-Request-Id it sent, which the tool echoes and logs)."""
    line = re.compile(rf'^\S+ "{method} {re.escape(path)}" {status} \d+ \d+us rid={request_id}$', re.M)
    deadline = time.monotonic() + 3
    while not (found := line.search(watch.text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found, f"no access log line {line.pattern!r}:\n{watch.text()[-3000:]}"
    return found[0]


@pytest.mark.parametrize("case", list(MALFORMED_BODIES))
def test_malformed_json_to_the_save_endpoint_is_400(tool, saver, watch, case):
    before = snapshot(tool)
    request_id = secrets.token_hex(8)
    response = saver.http.post(f"{saver.base_url}/api/worksheet", data=MALFORMED_BODIES[case], timeout=TIMEOUT,
                               headers=saver.headers(**{"Content-Type": "application/json", "X-Request-Id": request_id}))
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.json() == {"error": "Bad Request", "message": "Expected a JSON object."}
    assert snapshot(tool) == before
    assert response.headers["X-Request-Id"] == request_id
    access_logged(watch, "POST", "/api/worksheet", 400, request_id)
    assert "Traceback" not in watch.text() and "unexpected error" not in watch.text()


ODD_VALUES = {
    "base_version Infinity": b'{"rows": [], "answers": {}, "base_version": Infinity}',
    "base_version -Infinity": b'{"rows": [], "answers": {}, "base_version": -Infinity}',
    "base_version NaN": b'{"rows": [], "answers": {}, "base_version": NaN}',
    "base_version 1e400": b'{"rows": [], "answers": {}, "base_version": 1e400}',
    "base_version 1e300": b'{"rows": [], "answers": {}, "base_version": 1e300}',
    "base_version 2**63": b'{"rows": [], "answers": {}, "base_version": 9223372036854775808}',
    "base_version 10**30": b'{"rows": [], "answers": {}, "base_version": 1000000000000000000000000000000}',
    "base_version -10**30": b'{"rows": [], "answers": {}, "base_version": -1000000000000000000000000000000}',
    "base_version 2**31": b'{"rows": [], "answers": {}, "base_version": 2147483648}',
    "base_version an object": b'{"rows": [], "answers": {}, "base_version": {"v": 1}}',
    "base_version a list": b'{"rows": [], "answers": {}, "base_version": [1]}',
    "base_version true": b'{"rows": [], "answers": {}, "base_version": true}',
    "action an object": b'{"rows": [], "answers": {}, "action": {"submit": true}}',
    "action a list": b'{"rows": [], "answers": {}, "action": ["submit"]}',
    "rows an object": b'{"rows": {"0": {"partnership": "x"}}, "answers": {}}',
    "rows a string": b'{"rows": "Teen Makerspace", "answers": {}}',
    "a row a number": b'{"rows": [1e400], "answers": {}}',
    "a cell a number": b'{"rows": [{"partnership": 1e400, "type": NaN}], "answers": {}}',
    "a cell an object": b'{"rows": [{"partnership": {"$ne": null}}], "answers": {}}',
    "answers a list": b'{"rows": [], "answers": ["one", "two"]}',
    "an answer a list": b'{"rows": [], "answers": {"talk-more": ["a", "b"]}}',
    "duplicate keys": b'{"rows": [], "rows": [{"partnership": "x"}], "answers": {}}',
    "unknown keys": b'{"rows": [], "answers": {}, "__proto__": {"admin": true}, "constructor": 1}',
}


@pytest.mark.parametrize("case", list(ODD_VALUES))
def test_odd_json_values_at_the_save_endpoint_are_4xx_and_change_nothing(tool, saver, case):
    """JSON objects with values of the wrong type or size: refused (no usable base version is a conflict)."""
    before = snapshot(tool)
    response = saver.http.post(f"{saver.base_url}/api/worksheet", data=ODD_VALUES[case], timeout=TIMEOUT,
                               headers=saver.headers(**{"Content-Type": "application/json"}))
    assert response.status_code in (400, 409, 422), (response.status_code, response.text[:300])
    after = snapshot(tool)
    assert after[:3] == before[:3], "nothing saved"  # a conflict keeps the refused version as a revision


ODD_FORM_FIELDS = {
    "base_version 10**30": {"base_version": "1" + "0" * 30},
    "base_version 2**31": {"base_version": str(2**31)},
    "base_version 1e400": {"base_version": "1e400"},
    "base_version -1": {"base_version": "-1"},
    "action index of 5000 digits": {"action": "remove-" + "9" * 5000},
    "action index of 30 digits": {"action": "down-" + "9" * 30},
    "action index a superscript digit": {"action": "up-²"},
    "action index negative": {"action": "up--5"},
    "row index huge": {"rows-99999999999-partnership": "x"},
    "row index negative": {"rows--1-partnership": "x"},
    "a field repeated 500 times": {"rows-0-partnership": ["x"] * 500},
}


@pytest.mark.parametrize("case", list(ODD_FORM_FIELDS))
def test_odd_values_in_the_no_script_form_never_500(tool, saver, case):
    before = snapshot(tool)
    response = saver.post_form({"action": "save", "rows-0-partnership": "Changed", **ODD_FORM_FIELDS[case]},
                               allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code in (400, 409, 422), (response.status_code, response.text[:300])
    assert snapshot(tool)[:3] == before[:3], "nothing saved"


# --- deep linking: a tampered answer -------------------------------------------------------------------

@pytest.fixture()
def _no_added_activities(tool):
    from lti_tool.devlms import activities

    with tool.app.app_context():
        activities.remove_added()
    yield
    with tool.app.app_context():
        activities.remove_added()


def _picker(browser: Browser) -> tuple[requests.Response, dict, str]:
    """Open the tool's content picker from the practice course: (page, its form fields, the return URL asked for)."""
    form = browser.authorize(browser.start("u-instructor-1", message="deeplink"))
    page = submit(browser.http, form)
    assert page.status_code == 200, page.text[:2000]
    token, csrf = tokens_of(page)
    return page, {"launch_token": token, "csrf_token": csrf}, unverified(form.fields["id_token"])[1][DL + "deep_linking_settings"]["deep_link_return_url"]


def _answer_jwt(browser: Browser, fields: dict, **extra) -> tuple[requests.Response, str]:
    response = browser.http.post(browser.base_url + "/deep-linking/", data={**fields, "page": "relationships", **extra},
                                 timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:2000]
    return response, parse_form(response.text, "deep-link-return").fields["JWT"]


def test_picker_ignores_altered_and_added_hidden_fields(tool, browser, _no_added_activities):
    _, fields, return_url = _picker(browser)
    other = Browser(tool.base_url)
    _, other_fields, _ = _picker(other)
    tampered_token = fields["launch_token"][:-2] + ("AA" if not fields["launch_token"].endswith("AA") else "BB")
    assert browser.http.post(tool.base_url + "/deep-linking/", data={**fields, "launch_token": tampered_token,
                             "page": "relationships"}, timeout=TIMEOUT).status_code == 401
    swapped = browser.http.post(tool.base_url + "/deep-linking/", data={**fields, "launch_token": other_fields["launch_token"],
                                "page": "relationships"}, timeout=TIMEOUT)
    assert swapped.status_code == 400, "a picker token with another picker's CSRF token"

    extra = {"title": "<b>Pwned</b>", "url": "https://evil.example/launch", "custom": "page=../secret",
             "lineItem": '{"scoreMaximum": 1000}', "JWT": "x.y.z", "deep_link_return_url": "https://evil.example/",
             "iss": "https://evil.example", "deployment_id": "666", "data": "forged"}
    answer, token = _answer_jwt(browser, fields, **extra)
    assert parse_form(answer.text, "deep-link-return").action == return_url
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims[LTI + "deployment_id"] == "1" and claims["iss"] == "practice-moodle"
    assert claims[DL + "content_items"] == [{
        "type": "ltiResourceLink", "title": "Relationships", "url": tool.base_url + "/lti/launch",
        "custom": {"page": "relationships"}, "lineItem": {"scoreMaximum": 1, "label": "Relationships"}}]
    assert "evil.example" not in answer.text and "Pwned" not in answer.text


def test_picker_escapes_a_scripted_page_name(browser):
    _, fields, _ = _picker(browser)
    response = browser.http.post(browser.base_url + "/deep-linking/", data={**fields, "page": "<script>alert(1)</script>"},
                                 timeout=TIMEOUT)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text and "&lt;script&gt;" in response.text


def _lms_stats(tool) -> dict:
    return requests.get(tool.base_url + "/dev/lms/api/stats", timeout=TIMEOUT).json()


def _tamper_payload(token: str, change) -> str:
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    change(claims)
    return f"{header}.{b64(claims)}.{signature}"


def test_the_lms_refuses_a_deep_linking_response_altered_after_signing(tool, browser, _no_added_activities):
    _, fields, return_url = _picker(browser)
    _, token = _answer_jwt(browser, fields)
    header = jwt.get_unverified_header(token)
    body = jwt.decode(token, options={"verify_signature": False})
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def items(claims):
        claims[DL + "content_items"][0]["url"] = "https://evil.example/launch"

    def title(claims):
        claims[DL + "content_items"][0]["title"] = "Pwned"

    def score(claims):
        claims[DL + "content_items"][0]["lineItem"]["scoreMaximum"] = 1000

    def deployment(claims):
        claims[LTI + "deployment_id"] = "2"

    forgeries = {
        "content item url changed": _tamper_payload(token, items),
        "title changed": _tamper_payload(token, title),
        "scoreMaximum changed": _tamper_payload(token, score),
        "deployment changed": _tamper_payload(token, deployment),
        "alg none": f"{b64({**header, 'alg': 'none'})}.{token.split('.')[1]}.",
        "unknown kid": jwt.encode(body, rogue, algorithm="RS256", headers={"kid": "no-such-kid"}),
        "rogue key, tool's kid": jwt.encode(body, rogue, algorithm="RS256", headers={"kid": header["kid"]}),
        "signature cut": token.rsplit(".", 1)[0] + ".",
        "not a JWT": "not-a-jwt",
    }
    before = _lms_stats(tool)
    for name, forged in forgeries.items():
        response = requests.post(return_url, data={"JWT": forged}, timeout=TIMEOUT)
        assert response.status_code == 400, (name, response.status_code, response.text[:500])
        assert "Content from the tool refused" in response.text, name
    after = _lms_stats(tool)
    assert after["deep_link_errors"] - before["deep_link_errors"] == len(forgeries), "each refusal is counted"
    assert after["deep_link_returns"] == before["deep_link_returns"]
    course = requests.get(tool.base_url + "/dev/lms/", timeout=TIMEOUT).text
    assert "rl-added-" not in course and "Pwned" not in course, "nothing was added"

    accepted = requests.post(return_url, data={"JWT": token}, timeout=TIMEOUT)
    assert accepted.status_code == 200 and "rl-added-" in accepted.text, "the untouched answer is accepted"
    replayed = requests.post(return_url, data={"JWT": token}, timeout=TIMEOUT)
    assert replayed.status_code == 400 and "already used" in replayed.text


def test_a_deep_linking_launch_with_a_script_return_url_is_refused(tool, lms_key, watch):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-instructor-1", message="deeplink"))
    settings = unverified(form.fields["id_token"])[1][DL + "deep_linking_settings"]
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims={
        DL + "deep_linking_settings": {**settings, "deep_link_return_url": "javascript:alert(document.domain)"}})
    refused(submit(browser.http, form), watch, "missing_claim")


# --- the route matrix ----------------------------------------------------------------------------------

# Blueprints whose routes need no launch, and why.
NO_LAUNCH_BLUEPRINTS = {
    "devlms": "the practice LMS: a stand-in for the LMS, off in production",
    "health": "health probes for load balancers and orchestrators: no launch, no course data",
}
# Other routes of the tool that need no launch, and why.
NO_LAUNCH_NEEDED = {
    "static": "static files",
    "lti.jwks": "the tool's public keys, public by design",
    "lti.canvas_json": "Canvas developer key configuration, public by design",
    "lti.login": "OIDC login initiation: comes before any launch (test_launch_failures.py)",
    "lti.login_continue": "continues a login by its state (test_cookie_tiers.py)",
    "lti.launch": "the launch itself: the id_token and state are its proof (test_launch_failures.py, above)",
    "lti.launch_verify": "the launch's platform storage check: Origin plus the login's state and nonce (below)",
    "registration.register": "LTI Dynamic Registration: its own registration token (test_dynamic_registration.py)",
}
# other_course: course B's instructor; other_course_learner: a learner of course B; expired: course A's instructor's
# token signed a day ago; expired_learner: course A's learner's, likewise.
PRINCIPALS = ("learner", "other_course_learner", "instructor", "other_course", "expired", "expired_learner", "none",
              "deep_link")
# Principals that must never see course A's learner's work.
OUTSIDERS = ("other_course_learner", "other_course", "deep_link", "expired", "expired_learner", "none")


def _expect(learner, other_course_learner, instructor, other_course, deep_link, expired=401, expired_learner=401,
            none=401) -> dict[str, int]:
    return {"learner": learner, "other_course_learner": other_course_learner, "instructor": instructor,
            "other_course": other_course, "expired": expired, "expired_learner": expired_learner, "none": none,
            "deep_link": deep_link}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    expect: dict[str, int]
    paths: tuple[str, ...] = ()  # concrete paths for a rule with variables ({pid}: course A's learner)
    # Responses of course A's instructor that must show course A's learner's work (the positive control).
    shows_learner_work: bool = False
    # POST only: the statuses with the launch and CSRF tokens in the form body (launch_token, csrf_token), as the
    # pages' forms send them, when they differ from `expect` (the tokens in headers).
    form_expect: dict[str, int] | None = None


# Bodies are refused by validation (422) once past authorisation, so the matrix writes nothing.
ROUTES = {
    "learner.home": Route("/activity", "GET", _expect(200, 200, 200, 200, 401)),
    "learner.print_view": Route("/activity/print", "GET", _expect(200, 200, 200, 200, 401)),
    "learner.post_form": Route("/activity", "POST", _expect(422, 422, 422, 422, 401)),
    # Its body must be JSON: a form body carrying the tokens passes authorisation and CSRF, then is refused as not
    # JSON (a deep linking launch has no worksheet: 401 before the body is read).
    "learner.autosave": Route("/api/worksheet", "POST", _expect(422, 422, 422, 422, 401),
                              form_expect=_expect(400, 400, 400, 400, 401)),
    "learner.refresh_token": Route("/api/launch/refresh", "POST", _expect(200, 200, 200, 200, 401)),
    "deep_linking.choose": Route("/deep-linking/", "GET", _expect(403, 403, 403, 403, 200)),
    "deep_linking.respond": Route("/deep-linking/", "POST", _expect(403, 403, 403, 403, 422)),
    "instructor.home": Route("/instructor/", "GET", _expect(403, 403, 200, 200, 401)),
    "instructor.learner": Route("/instructor/learner/<int:person_id>", "GET", _expect(403, 403, 200, 404, 401),
                                ("/instructor/learner/{pid}",), shows_learner_work=True),
    "instructor.feedback": Route("/instructor/learner/<int:person_id>/feedback", "POST", _expect(403, 403, 303, 404, 401),
                                 ("/instructor/learner/{pid}/feedback",)),
    "instructor.resend_one": Route("/instructor/learner/<int:person_id>/resend", "POST", _expect(403, 403, 303, 404, 401),
                                   ("/instructor/learner/{pid}/resend",)),
    "instructor.resend_all": Route("/instructor/grades/resend", "POST", _expect(403, 403, 303, 303, 401)),
    "instructor.partnership_map": Route("/instructor/map", "GET", _expect(403, 403, 200, 200, 401), shows_learner_work=True),
    "instructor.export": Route("/instructor/export/<kind>.csv", "GET", _expect(403, 403, 200, 200, 401),
                               ("/instructor/export/entries.csv", "/instructor/export/answers.csv"), shows_learner_work=True),
}
POST_BODIES = {
    "/activity": {"action": "save", "rows-0-partnership": "x", "rows-0-type": "sometimes"},
    "/api/worksheet": {"rows": [{"partnership": "x", "type": "sometimes"}], "answers": {}},
}


@dataclass
class Principal:
    token: str | None
    csrf: str | None


@pytest.fixture(scope="module")
def cast(tool, lms_key):
    """Course A: a learner with a draft and their instructor; course B: another instructor; and a deep linking launch.
    Courses A and B are the practice LMS's course re-signed with other contexts, without grades or roster services."""
    marker = "Matrix-" + secrets.token_hex(6)
    suffix = secrets.token_hex(4)
    a, b = "course-battery-a-" + suffix, "course-battery-b-" + suffix

    def launch(sub: str, roles: list[str], context: str):
        _, page = launch_with(tool, lms_key, claims={"sub": sub, "name": f"Person {sub}", LTI + "roles": roles,
                                                     LTI + "context": {"id": context, "title": context}}, drop=(AGS, NRPS))
        assert page.status_code == 200, page.text[:2000]
        return tokens_of(page)

    learner = launch("battery-learner-a", LEARNER_ROLES, a)
    response = requests.post(tool.base_url + "/api/worksheet", json={"rows": [row(marker, "Strong " + marker)],
                             "answers": {"talk-more": "Answer " + marker}, "base_version": None},
                             headers={"X-Launch-Token": learner[0], "X-CSRF-Token": learner[1]}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    instructor = launch("battery-instructor-a", INSTRUCTOR_ROLES, a)
    other = launch("battery-instructor-b", INSTRUCTOR_ROLES, b)
    other_learner = launch("battery-learner-b", LEARNER_ROLES, b)
    _, picker_fields, _ = _picker(Browser(tool.base_url))
    return {
        "marker": marker,
        "pid": person_id(tool, "battery-learner-a"),
        "principals": {
            "learner": Principal(*learner),
            "other_course_learner": Principal(*other_learner),
            "instructor": Principal(*instructor),
            "other_course": Principal(*other),
            "expired": Principal(expired(instructor[0], tool.env["SECRET_KEY"]), instructor[1]),
            "expired_learner": Principal(expired(learner[0], tool.env["SECRET_KEY"]), learner[1]),
            "none": Principal(None, None),
            "deep_link": Principal(picker_fields["launch_token"], picker_fields["csrf_token"]),
        },
    }


def call(tool, method: str, path: str, who: Principal, *, csrf: str | None = "same", bodies: dict | None = None,
         in_form: bool = False) -> requests.Response:
    """The request a page of the tool makes: the launch token in ?lt= (GET) or a header (POST), with its CSRF token;
    in_form: a POST with both tokens as form fields (launch_token, csrf_token), as the no-script forms send them."""
    if method == "GET":
        return requests.get(tool.base_url + path, params={"lt": who.token} if who.token else {}, timeout=TIMEOUT,
                            allow_redirects=False)
    if in_form:
        body = (bodies or POST_BODIES).get(path, {"feedback": "Matrix feedback"})
        fields = {k: v for k, v in (("launch_token", who.token), ("csrf_token", who.csrf)) if v}
        return requests.post(tool.base_url + path, data={**fields, **body}, timeout=TIMEOUT, allow_redirects=False)
    headers = {}
    if who.token:
        headers["X-Launch-Token"] = who.token
    csrf = who.csrf if csrf == "same" else csrf
    if csrf:
        headers["X-CSRF-Token"] = csrf
    body = (bodies or POST_BODIES).get(path, {"feedback": "Matrix feedback"})
    if path == "/api/worksheet":
        return requests.post(tool.base_url + path, json=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    return requests.post(tool.base_url + path, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)


def _routes_of(app) -> dict[str, tuple[str, frozenset[str]]]:
    """endpoint: (rule, methods) of every route that needs a launch."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in NO_LAUNCH_BLUEPRINTS or rule.endpoint in NO_LAUNCH_NEEDED:
            continue
        assert rule.endpoint not in found, f"{rule.endpoint} has several rules: extend the matrix"
        found[rule.endpoint] = (rule.rule, frozenset(rule.methods - {"HEAD", "OPTIONS"}))
    return found


def test_the_matrix_lists_every_route_of_the_tool(tool):
    """A new route fails here until it is added to ROUTES (or to NO_LAUNCH_NEEDED, with the reason)."""
    assert set(NO_LAUNCH_NEEDED) <= {r.endpoint for r in tool.app.url_map.iter_rules()}, "a listed exception is gone"
    found = _routes_of(tool.app)
    assert set(found) == set(ROUTES), f"routes missing from the matrix: {set(found) - set(ROUTES)}; gone: {set(ROUTES) - set(found)}"
    for endpoint, route in ROUTES.items():
        assert found[endpoint] == (route.rule, frozenset({route.method})), endpoint


@pytest.mark.parametrize("endpoint", list(ROUTES))
def test_route_matrix(tool, cast, endpoint):
    route = ROUTES[endpoint]
    paths = [p.format(pid=cast["pid"]) for p in route.paths] or [route.rule]
    marker = cast["marker"]
    ways = [(False, route.expect)]
    if route.method == "POST":
        ways.append((True, route.form_expect or route.expect))
    for path in paths:
        for (in_form, expect), name in ((w, n) for w in ways for n in PRINCIPALS):
            response = call(tool, route.method, path, cast["principals"][name], in_form=in_form)
            where = "tokens in the form body" if in_form else "tokens in headers"
            assert response.status_code == expect[name], (name, where, route.method, path, response.status_code, response.text[:300])
            if name in OUTSIDERS:
                assert marker not in response.text, f"{name} sees course A's work on {path}"
                assert "battery-learner-a" not in response.text, f"{name} sees course A's learner on {path}"
            if name == "instructor" and route.shows_learner_work:
                assert marker in response.text, f"course A's instructor should see the learner's work on {path}"
            if name == "learner" and route.method == "GET" and response.status_code == 200:
                assert marker in response.text, "the learner sees their own work"


def test_the_matrix_wrote_nothing_but_course_a_instructors_feedback(tool, cast):
    submission, rows, _ = stored(tool.app, "battery-learner-a", "rl-relationships")
    assert rows == [row(cast["marker"], "Strong " + cast["marker"])]
    assert submission.feedback in (None, "Matrix feedback")
    assert stored(tool.app, "battery-learner-b", "rl-relationships") == (None, [], []), "course B's learner saved nothing"


# --- CSRF on every POST ----------------------------------------------------------------------------------

# POST routes without the launch's CSRF token, and why (the practice LMS, devlms.*, is also exempt: a stand-in
# for the LMS, off in production, whose service endpoints take OAuth2 bearer tokens).
CSRF_EXCEPTIONS = {
    "lti.login": "OIDC login initiation posted by the LMS; a forged login only starts a login, and its launch is "
                 "bound to this browser's state (test_launch_failures.py::test_state_from_another_browser)",
    "lti.launch": "the LMS's form post: the signed id_token, the state bound to the browser, the nonce used once",
    "lti.launch_verify": "the platform storage check: the tool's own Origin, and the login's state and nonce (below)",
}
CSRF_TOKEN_OF = {"learner": "learner", "instructor": "instructor", "deep_linking": "deep_link"}


def test_the_csrf_exceptions_are_exactly_the_listed_ones(tool):
    from lti_tool.views import access

    assert set(access.CSRF_EXEMPT_ENDPOINTS) == set(CSRF_EXCEPTIONS)
    posts = {r.endpoint for r in tool.app.url_map.iter_rules() if "POST" in r.methods and not r.endpoint.startswith("devlms.")}
    assert set(CSRF_EXCEPTIONS) <= posts
    assert posts - set(CSRF_EXCEPTIONS) == {e for e, r in ROUTES.items() if r.method == "POST"}, "a POST route outside the matrix"


# Bodies that would write if the CSRF check let them through.
CSRF_BODIES = {
    "/activity": {"action": "save", "base_version": "1", "rows-0-partnership": "Written by CSRF"},
    "/api/worksheet": {"rows": [row("Written by CSRF")], "answers": {}, "base_version": 1},
    "/deep-linking/": {"page": "relationships"},
}


@pytest.mark.parametrize("endpoint", [e for e, r in ROUTES.items() if r.method == "POST"])
def test_every_post_refuses_a_missing_or_forged_csrf_token(tool, cast, endpoint):
    route = ROUTES[endpoint]
    path = (route.paths[0] if route.paths else route.rule).format(pid=cast["pid"])
    who = cast["principals"][CSRF_TOKEN_OF[endpoint.split(".")[0]]]
    flipped = who.csrf[:-1] + ("0" if who.csrf[-1] != "0" else "1")
    bodies = {**CSRF_BODIES, path: CSRF_BODIES.get(path, {"feedback": "Written by CSRF"})}
    for csrf in (None, "", "forged", "0" * 64, flipped, who.csrf.upper(), cast["principals"]["other_course"].csrf):
        response = call(tool, "POST", path, who, csrf=csrf, bodies=bodies)
        assert response.status_code == 400, (endpoint, csrf, response.status_code, response.text[:300])
    # The token in the query string does not count: only the header or the form field.
    response = requests.post(tool.base_url + path, params={"csrf_token": who.csrf}, data={"launch_token": who.token},
                             timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code == 400, endpoint


def test_the_csrf_refusals_wrote_nothing(tool, cast):
    submission, rows, _ = stored(tool.app, "battery-learner-a", "rl-relationships")
    assert rows == [row(cast["marker"], "Strong " + cast["marker"])] and submission.version == 1
    assert submission.feedback != "Written by CSRF"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}],
                         ids=["foreign origin", "cross-site fetch", "no origin"])
def test_platform_storage_check_refuses_a_post_from_elsewhere(tool, browser, watch, headers):
    """lti.launch_verify is CSRF-exempt: it must come from the tool's own page."""
    fields = login_fields(browser)
    login = unverified(fields["id_token"])[1]
    response = browser.http.post(tool.base_url + "/lti/launch/verify", headers=headers, timeout=TIMEOUT, data={
        **fields, "lti_storage_state": fields["state"], "lti_storage_nonce": login["nonce"]})
    refused(response, watch, "state_mismatch")


# --- 413 on every POST route -------------------------------------------------------------------------------

def _post_paths(app, pid: int) -> set[str]:
    """A concrete path for every POST route of the tool (the practice LMS aside)."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.endpoint.startswith("devlms."):
            paths.add(rule.rule.replace("<int:person_id>", str(pid)))
    return paths


@pytest.mark.parametrize("size", [1024 * 1024, 10 * 1024 * 1024])
def test_post_routes_missing_from_test_body_limits_also_get_413(tool, cast, size):
    """test_body_limits.py lists its routes by hand; every POST route found in the url_map gets the same check.
    (With the tool's own Origin: /lti/launch/verify refuses any other origin with a 400 before it reads the body.)"""
    from tests.test_body_limits import POSTS

    missing = sorted(_post_paths(tool.app, cast["pid"]) - set(POSTS))
    assert "/lti/launch/verify" in missing and len(missing) >= 3
    for path in missing:
        response = requests.post(tool.base_url + path, data=b"a=" + b"x" * size, timeout=TIMEOUT,
                                 headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": tool.base_url})
        assert response.status_code == 413, (path, response.status_code, response.text[:200])


# --- script payloads ------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ATTR = "' autofocus onfocus='alert(1)"
TEXTAREA = "</textarea><svg onload=alert(1)>"
JS_URL = "javascript:alert(1)"
PAYLOAD = SCRIPT + IMG + ATTR + TEXTAREA + JS_URL  # 117 characters: fits every field
RAW_MARKUP = (SCRIPT, "<img src=x onerror", "<svg onload", "onfocus='alert")
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0")


def tagged(tag: str) -> str:
    return f"{tag}:{PAYLOAD}"


def assert_inert(html: str, *expected: str) -> None:
    """No payload became markup, and each expected text is shown as written (in text or a form field's value)."""
    for raw in RAW_MARKUP:
        assert raw not in html, f"unescaped {raw!r} in:\n{html[max(html.find(raw) - 300, 0):html.find(raw) + 300]}"
    soup = BeautifulSoup(html, "html.parser")
    for node in soup.find_all(True):
        handlers = [a for a in node.attrs if a.lower().startswith("on")]
        assert not handlers, f"event handler attribute {handlers} on <{node.name}>"
        for attr in ("href", "src", "action", "formaction", "data", "xlink:href"):
            value = node.get(attr)
            assert not (isinstance(value, str) and value.strip().lower().startswith("javascript:")), f"<{node.name} {attr}={value!r}>"
    for script in soup.find_all("script"):
        assert script.get("src") and not script.get_text(strip=True), f"inline script: {script}"
    assert not soup.select('img[src="x"]') and not soup.find_all(["svg", "iframe", "object", "embed"])
    shown = soup.get_text() + "\n".join(i.get("value", "") for i in soup.find_all("input"))
    for text in expected:
        assert text in shown, f"{text!r} is not shown as written"


def assert_csv_inert(content: bytes, *expected: str) -> list[list[str]]:
    """No cell a spreadsheet would run; each expected value is there (formulas with a leading ')."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    for cells in rows:
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), f"formula cell {cell!r}"
    cells = {c for r in rows for c in r}
    for text in expected:
        want = "'" + text if text.startswith(("=", "+", "-", "@")) else text
        assert any(want in c for c in cells), f"{want!r} not in the CSV"
    return rows


@pytest.fixture(scope="module")
def hostile_course(tool, lms_key):
    """A course whose LMS-supplied names and titles, and whose learners' every field, carry script payloads."""
    from tests.worksheet_client import forget

    suffix = secrets.token_hex(4)
    context = {"id": f"course-battery-xss-{suffix}", "label": tagged("label"), "title": tagged("course-title")}
    link = {"id": "rl-relationships", "title": tagged("link-title"), "description": tagged("link-description")}
    base = {LTI + "context": context, LTI + "resource_link": link}
    people = {
        "named": {"sub": f"battery-xss-a-{suffix}", "name": tagged("name"), "given_name": tagged("given"),
                  "family_name": tagged("family"), "email": IMG + "@example.edu",
                  LTI + "launch_presentation": {"locale": 'en"><script>alert(1)</script>', "document_target": "iframe"}},
        "unnamed": {"sub": f"battery-xss-b-{suffix}", "name": None, "given_name": tagged("only-given"),
                    "family_name": tagged("only-family"), "email": FORMULAS[0] + "@example.edu"},
    }
    learners = {}
    for key, claims in people.items():
        forget(tool.app, claims["sub"])
        drop = (AGS, NRPS) + tuple(k for k, v in claims.items() if v is None)
        browser, page = launch_with(tool, lms_key, claims={**base, LTI + "roles": LEARNER_ROLES,
                                                           **{k: v for k, v in claims.items() if v is not None}}, drop=drop)
        assert page.status_code == 200, page.text[:2000]
        token, csrf = tokens_of(page)
        learners[key] = Learner(tool.base_url, browser.http, page, token, csrf)
    data = {
        "rows": [row(tagged("partnership"), tagged("strengths"), tagged("weaknesses"), tagged("improvement"), "formal"),
                 row(FORMULAS[0], FORMULAS[1], FORMULAS[2], FORMULAS[3], "informal")],
        "answers": {q: tagged(q) for q in QUESTIONS},
    }
    for learner in learners.values():
        response = learner.autosave(data, None)
        assert response.status_code == 200, response.text[:500]
    instructor_browser, page = launch_with(tool, lms_key, "u-instructor-1", claims={
        **base, "sub": f"battery-xss-instructor-{suffix}", "name": tagged("instructor-name"), LTI + "roles": INSTRUCTOR_ROLES},
        drop=(AGS, NRPS))
    assert page.status_code == 200, page.text[:2000]
    token, csrf = tokens_of(page)
    return {"learners": learners, "people": people, "data": data, "instructor": (instructor_browser, page, token),
            "context": context, "link": link}


FIELD_TEXTS = [tagged(t) for t in ("partnership", "strengths", "weaknesses", "improvement", *QUESTIONS)]


def test_learner_fields_are_stored_as_written(tool, hostile_course):
    for claims in hostile_course["people"].values():
        submission, rows, _ = stored(tool.app, claims["sub"])
        assert rows == hostile_course["data"]["rows"] and submission.answers == hostile_course["data"]["answers"]


def test_learner_pages_escape_every_field_and_every_lms_name(hostile_course):
    named = hostile_course["learners"]["named"]
    for path in ("/activity", "/activity/print"):
        response = named.get(path)
        assert response.status_code == 200
        assert_inert(response.text, *FIELD_TEXTS, tagged("course-title"), tagged("name"))
    assert_inert(named.page.text, tagged("course-title"), tagged("name"))
    unnamed = hostile_course["learners"]["unnamed"]
    assert_inert(unnamed.get("/activity/print").text, tagged("only-given"), tagged("only-family"), *FIELD_TEXTS)


def test_the_no_script_form_shows_payloads_back_escaped(hostile_course):
    """A refused form (422) shows back what was typed: still as text."""
    named = hostile_course["learners"]["named"]
    fields = {"action": "save", "rows-0-partnership": tagged("partnership") + "x" * 200, "rows-0-strengths": tagged("strengths"),
              "rows-0-type": PAYLOAD, **{f"q_{q}": tagged(q) for q in QUESTIONS}}
    response = named.post_form(fields)
    assert response.status_code == 422
    assert_inert(response.text, tagged("strengths"), *[tagged(q) for q in QUESTIONS])


def test_a_payload_as_the_row_type_is_refused(tool, hostile_course):
    named = hostile_course["learners"]["named"]
    version = stored(tool.app, hostile_course["people"]["named"]["sub"])[0].version
    response = named.autosave({"rows": [row("x", type=PAYLOAD)], "answers": {}}, version)
    assert response.status_code == 422 and "rows-0-type" in response.json()["errors"]
    assert stored(tool.app, hostile_course["people"]["named"]["sub"])[1] == hostile_course["data"]["rows"]


def test_instructor_pages_escape_learner_fields_and_lms_names(tool, hostile_course):
    browser, page, token = hostile_course["instructor"]
    assert_inert(page.text, tagged("course-title"), tagged("link-title"), tagged("instructor-name"), tagged("name"),
                 IMG + "@example.edu", FORMULAS[0] + "@example.edu")
    map_page = browser.http.get(f"{tool.base_url}/instructor/map", params={"lt": token}, timeout=TIMEOUT)
    assert map_page.status_code == 200
    assert_inert(map_page.text, tagged("partnership"), tagged("strengths"), tagged("name"),
                 f"{tagged('only-given')} {tagged('only-family')}", FORMULAS[0])
    for key, who in hostile_course["people"].items():
        detail = browser.http.get(f"{tool.base_url}/instructor/learner/{person_id(tool, who['sub'])}", params={"lt": token},
                                  timeout=TIMEOUT)
        assert detail.status_code == 200
        assert_inert(detail.text, *FIELD_TEXTS, tagged("link-title"), tagged("name") if key == "named" else tagged("only-given"))


def test_csv_exports_neutralise_formulas_in_fields_and_lms_names(tool, hostile_course):
    browser, _, token = hostile_course["instructor"]
    entries = browser.http.get(f"{tool.base_url}/instructor/export/entries.csv", params={"lt": token}, timeout=TIMEOUT)
    assert entries.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in entries.headers["Content-Disposition"]
    rows = assert_csv_inert(entries.content, *FORMULAS, tagged("partnership"), tagged("name"), FORMULAS[0] + "@example.edu")
    assert len(rows) == 1 + 2 * 2, "a header and two rows for each of the two learners"
    answers = browser.http.get(f"{tool.base_url}/instructor/export/answers.csv", params={"lt": token}, timeout=TIMEOUT)
    assert_csv_inert(answers.content, *[tagged(q) for q in QUESTIONS], FORMULAS[0] + "@example.edu")


def test_deep_linking_picker_escapes_lms_names_label_and_text(tool, lms_key):
    """The picker shows the course (here by its label: no title), the person and the LMS's text."""
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-instructor-1", message="deeplink"))
    settings = unverified(form.fields["id_token"])[1][DL + "deep_linking_settings"]
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims={
        "name": tagged("dl-name"), LTI + "context": {"id": "course-battery-xss-dl-" + secrets.token_hex(4), "label": tagged("dl-label")},
        DL + "deep_linking_settings": {**settings, "text": tagged("dl-text"), "title": tagged("dl-title")}})
    page = submit(browser.http, form)
    assert page.status_code == 200, page.text[:2000]
    assert_inert(page.text, tagged("dl-name"), tagged("dl-label"), tagged("dl-text"))


def test_error_pages_escape_what_the_lms_or_the_url_says(tool, browser, watch, hostile_course):
    login = browser.start("u-learner-1")
    response = browser.post_launch({"state": login.state, "error": PAYLOAD, "error_description": tagged("description")})
    refused(response, watch, "platform_error")
    assert_inert(response.text, tagged("description"))
    named = hostile_course["learners"]["named"]
    missing = named.get(page=PAYLOAD)
    assert missing.status_code == 404
    assert_inert(missing.text)
