"""Helpers for the practice LMS tests: a fake tool, and a client that drives the LMS over HTTP."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from flask import Blueprint, jsonify, redirect, request

from lti_tool import devlms

CLIENT_IDS = {"moodle": "practice-moodle", "canvas": "practice-canvas"}
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = [AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly", AGS + "score", NRPS_SCOPE]
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"


def _b64uint(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


class ToolKey:
    """An RSA key of the fake tool, with its public JWK."""

    def __init__(self):
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "n": _b64uint(numbers.n), "e": _b64uint(numbers.e)}
        self.kid = self.jwk["kid"] = thumbprint(self.jwk)

    def pem(self, public: bool = False) -> str:
        if public:
            return self.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        return self.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@dataclass
class FakeTool:
    """What the fake tool knows: its published keys, its registrations, what was posted to it."""

    keys: list[ToolKey]
    registrations: list[dict] = field(default_factory=list)
    jwks_fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def blueprint(self) -> Blueprint:
        bp = Blueprint("fake_tool", __name__)

        @bp.get("/.well-known/jwks.json")
        def jwks():
            with self.lock:
                self.jwks_fetches += 1
            return jsonify({"keys": [k.jwk for k in self.keys]})

        @bp.route("/lti/login", methods=["GET", "POST"])
        def login():
            params = request.values
            reg = next(r for r in self.registrations if r["issuer"] == params["iss"] and r["client_id"] == params["client_id"])
            query = {
                "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
                "client_id": params["client_id"], "redirect_uri": params["target_link_uri"],
                "login_hint": params["login_hint"], "lti_message_hint": params.get("lti_message_hint", ""),
                "state": "state-" + secrets.token_hex(6), "nonce": "nonce-" + secrets.token_hex(6),
            }
            return redirect(reg["auth_login_url"] + "?" + urlencode(query), code=302)

        @bp.post("/lti/launch")
        def launch():
            return jsonify(dict(request.form))

        return bp


@dataclass
class Launch:
    """One launch driven through the practice LMS: the tool's auth request and what came back."""

    auth_params: dict
    posted_to: str
    fields: dict

    @property
    def id_token(self) -> str:
        return self.fields["id_token"]


def parse_form(html: str) -> tuple[str, str, dict]:
    """(method, action, fields) of the form #autosubmit."""
    node = BeautifulSoup(html, "html.parser").find("form", id="autosubmit")
    assert node is not None, html[:2000]
    fields = {i["name"]: i.get("value", "") for i in node.find_all("input") if i.get("name")}
    return node.get("method", "get").lower(), node["action"], fields


class Lms:
    """Drives the practice LMS over HTTP, as the browser and the tool would."""

    def __init__(self, base: str, tool: FakeTool):
        self.base, self.tool = base, tool
        self.url = base + "/dev/lms"
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "devlms-tests/1.0"

    # --- browser side ---
    def start(self, person: str, link: str = "rl-relationships", mode: str = "moodle", method: str = "get", **extra) -> dict:
        """Open the launch page and submit it to the tool's login: the auth request parameters."""
        page = self.http.get(self.url + "/launch", params={"person": person, "link": link, "mode": mode, "method": method, **extra}, timeout=10)
        assert page.status_code == 200, page.text[:1000]
        form_method, action, fields = parse_form(page.text)
        assert form_method == method and action == self.base + "/lti/login"
        send = self.http.post if method == "post" else self.http.get
        response = send(action, **({"data": fields} if method == "post" else {"params": fields}), allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        location = response.headers["Location"]
        assert location.startswith(self.url + "/auth?")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def authorize(self, params: dict, method: str = "get") -> requests.Response:
        if method == "post":
            return self.http.post(self.url + "/auth", data=params, timeout=10)
        return self.http.get(self.url + "/auth", params=params, timeout=10)

    def launch(self, person: str, link: str = "rl-relationships", mode: str = "moodle", method: str = "get", **extra) -> Launch:
        params = self.start(person, link, mode, method, **extra)
        response = self.authorize(params)
        assert response.status_code == 200, response.text[:1000]
        form_method, action, fields = parse_form(response.text)
        assert form_method == "post"
        return Launch(auth_params=params, posted_to=action, fields=fields)

    def verify(self, token: str, mode: str) -> dict:
        """Verify an id_token against the LMS's published JWKS, as a tool would."""
        keys = self.http.get(self.url + "/jwks.json", timeout=10).json()["keys"]
        kid = jwt.get_unverified_header(token)["kid"]
        jwk = next(k for k in keys if k["kid"] == kid)
        reg = next(r for r in devlms.registrations({"TOOL_BASE_URL": self.base}) if r["client_id"] == CLIENT_IDS[mode])
        return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=CLIENT_IDS[mode], issuer=reg["issuer"])

    # --- tool side (services) ---
    def assertion(self, mode: str = "moodle", key: ToolKey | None = None, **overrides) -> str:
        key = key or self.tool.keys[0]
        now = int(time.time())
        client_id = CLIENT_IDS[mode]
        claims = {"iss": client_id, "sub": client_id, "aud": self.url + "/token", "iat": now, "exp": now + 300,
                  "jti": secrets.token_hex(12)}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})

    def token_request(self, assertion: str, scopes=ALL_SCOPES, **extra) -> requests.Response:
        data = {"grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion, "scope": " ".join(scopes), **extra}
        return self.http.post(self.url + "/token", data=data, timeout=10)

    def access_token(self, mode: str = "moodle", scopes=ALL_SCOPES) -> str:
        response = self.token_request(self.assertion(mode), scopes)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def call(self, method: str, url: str, token: str | None, body=None, content_type: str | None = None, **kw) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        data = None if body is None else json.dumps(body)
        return self.http.request(method, url, data=data, headers=headers, timeout=10, **kw)

    def score(self, url: str, token: str, user_id: str, *, timestamp: str | None = None, given=1, maximum=1,
              grading="FullyGraded", activity="Completed", **extra) -> requests.Response:
        body = {"userId": user_id, "timestamp": timestamp or now_iso(), "activityProgress": activity,
                "gradingProgress": grading, **extra}
        if given is not None:
            body.update(scoreGiven=given, scoreMaximum=maximum)
        return self.call("POST", url, token, body, SCORE_TYPE)

    def gradebook_row(self, user_id: str, line_item_id: int = 1) -> dict:
        book = self.http.get(self.url + "/api/gradebook", timeout=10).json()
        item = next(i for i in book["lineitems"] if i["id"] == line_item_id)
        return next(g for g in item["grades"] if g["userId"] == user_id)


def now_iso(offset: float = 0.0) -> str:
    """The current time (plus offset seconds) as ISO 8601 UTC with microseconds."""
    return datetime.fromtimestamp(time.time() + offset, tz=UTC).isoformat()


def scores_url(lineitem_url: str) -> str:
    """/scores before the query string."""
    parts = urlsplit(lineitem_url)
    return parts._replace(path=parts.path + "/scores").geturl()


def thumbprint(jwk: dict) -> str:
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
