"""Drive the practice LMS and the tool the way a browser does, over real HTTP."""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from bs4 import BeautifulSoup


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)


def parse_form(html: str, form_id: str = "autosubmit") -> Form:
    soup = BeautifulSoup(html, "html.parser")
    node = soup.find("form", id=form_id)
    assert node is not None, f"no form #{form_id} in page:\n{html[:2000]}"
    fields = {i["name"]: i.get("value", "") for i in node.find_all("input") if i.get("name")}
    return Form(method=(node.get("method") or "get").lower(), action=node["action"], fields=fields)


def submit(session: requests.Session, form: Form, **kwargs) -> requests.Response:
    if form.method == "post":
        return session.post(form.action, data=form.fields, **kwargs)
    return session.get(form.action, params=form.fields, **kwargs)


def unverified(token: str) -> tuple[dict, dict]:
    header = jwt.get_unverified_header(token)
    body = jwt.decode(token, options={"verify_signature": False})
    return header, body


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass
class Login:
    """A login the tool started: the LMS authorization request it redirected to."""

    auth_url: str
    params: dict[str, str]

    @property
    def state(self) -> str:
        return self.params["state"]

    @property
    def nonce(self) -> str:
        return self.params["nonce"]


class Browser:
    """One person's browser: a cookie jar, and the steps of an LTI launch."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def start(self, person: str, link: str = "rl-relationships", mode: str = "moodle", method: str = "get",
              message: str | None = None) -> Login:
        """Click the activity in the practice course (or, with message="deeplink", "Add an activity with the
        tool"); follow it to the tool's login, which redirects to the LMS."""
        params = {"person": person, "link": link, "mode": mode, "method": method}
        if message is not None:
            params["message"] = message
        page = self.http.get(f"{self.base_url}/dev/lms/launch", params=params)
        page.raise_for_status()
        response = submit(self.http, parse_form(page.text), allow_redirects=False)
        assert response.status_code in (302, 303), f"login answered {response.status_code}: {response.text[:500]}"
        location = response.headers["Location"]
        return Login(auth_url=location, params={k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})

    def authorize(self, login: Login) -> Form:
        """Let the LMS answer the authorization request: the form it posts to the tool."""
        response = self.http.get(login.auth_url)
        response.raise_for_status()
        return parse_form(response.text)

    def post_launch(self, fields: dict[str, Any]) -> requests.Response:
        return self.http.post(f"{self.base_url}/lti/launch", data=fields)

    def launch(self, person: str, **kwargs) -> requests.Response:
        login = self.start(person, **kwargs)
        form = self.authorize(login)
        return submit(self.http, form)


def resign(token: str, private_key, *, header: dict | None = None, claims: dict | None = None, drop: tuple = (), alg: str = "RS256") -> str:
    """The same id_token with claims changed or dropped, signed again."""
    old_header, body = unverified(token)
    body.update(claims or {})
    for name in drop:
        body.pop(name, None)
    return jwt.encode(body, private_key, algorithm=alg, headers={"kid": old_header.get("kid"), **(header or {})})


def now() -> int:
    return int(time.time())
