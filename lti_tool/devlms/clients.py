"""LTI Dynamic Registration, the platform's side: the practice LMS registers a tool by URL.

The admin page (views/register.py) issues a one-time registration token and opens the tool's
registration URL with openid_configuration and registration_token. The tool fetches the configuration
(openid_configuration()), then posts its registration, which register() checks (as Moodle's
registration_helper and Canvas do), answering with a client id ("dyn-<random>") and, in Moodle mode, the
deployment id. The client is kept in the LMS's database; modes.by_client_id() finds it for launches,
the token endpoint and the services, which then use the URLs, scopes and claims the tool registered.

In Canvas mode the configuration itself needs the token (as Canvas's does), the answer carries no
deployment id (Canvas makes one when the app is installed), and the issuer is the LMS's base URL, as in
a self-hosted Canvas: hosted Canvas's https://canvas.instructure.com could not be a prefix of this
LMS's configuration URL, which LTI DR 3.5.1 requires.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from . import claims as lti_claims
from . import modes, nrps, store
from .modes import Mode, ToolClient  # the tables are in store.SCHEMA
from .settings import Settings

PREFIX = "dyn-"
TOKEN_LIFETIME = 3600
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
SUPPORTED_SCOPES = (*lti_claims.AGS_SCOPES, nrps.SCOPE)
SUPPORTED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "nonce", "name", "given_name", "family_name", "email", "locale")
FIRST_MOODLE_TYPE_ID = 100


class RegistrationError(Exception):
    """A refused registration request: HTTP status and RFC 7591 error code."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass(frozen=True)
class Client:
    """A registered client as the admin page and /api/registrations show it."""

    mode: str
    tool: ToolClient
    received: dict
    created_at: float

    def as_json(self) -> dict:
        t = self.tool
        return {"client_id": t.client_id, "mode": self.mode, "issuer": t.issuer, "deployment_id": t.deployment_id,
                "name": t.name, "initiate_login_uri": t.login_url, "redirect_uris": list(t.redirect_uris),
                "jwks_uri": t.jwks_url, "target_link_uri": t.target_link_uri, "scopes": list(t.scopes),
                "claims": list(t.claims), "received": self.received, "created_at": self.created_at}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- registration tokens --------------------------------------------------------------------

def issue_token(mode: Mode, lifetime: int = TOKEN_LIFETIME) -> str:
    """A new one-time registration token for a registration in mode (kept hashed)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with store.transaction() as conn:
        conn.execute("DELETE FROM registration_tokens WHERE expires_at < ? AND used_at IS NULL", (now - 86400,))
        conn.execute("INSERT INTO registration_tokens (token_hash, mode, created_at, expires_at) VALUES (?, ?, ?, ?)",
                     (_hash(token), mode.name, now, now + lifetime))
    return token


def _token_row(conn, token: str | None):
    """The live, unused token's row; RegistrationError (401) otherwise."""
    if not token:
        raise RegistrationError(401, "invalid_token", "a registration token is required (Authorization: Bearer)")
    row = conn.execute("SELECT mode, expires_at, used_at FROM registration_tokens WHERE token_hash = ?",
                       (_hash(token),)).fetchone()
    if row is None:
        raise RegistrationError(401, "invalid_token", "the registration token is not one this LMS issued")
    if row["used_at"] is not None:
        raise RegistrationError(401, "token_already_used", "the registration token was already used: "
                                "start the registration again from the LMS")
    if row["expires_at"] <= time.time():
        raise RegistrationError(401, "invalid_token", "the registration token has expired: "
                                "start the registration again from the LMS")
    return row


def check_token(token: str | None) -> Mode:
    """The mode of a live, unused registration token (it stays usable)."""
    with store.connection() as conn:
        return modes.MODES[_token_row(conn, token)["mode"]]


def bearer(header: str | None) -> str | None:
    """The token of an Authorization: Bearer header, or None."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


# --- the openid-configuration ---------------------------------------------------------------

def openid_configuration(settings: Settings, mode: Mode) -> dict:
    """The LMS's configuration for a dynamic registration in mode (LTI DR 1.0, 3.4)."""
    base = settings.base_url
    placements = {
        "moodle": {"LtiResourceLinkRequest": [], "LtiDeepLinkingRequest": ["ContentArea"]},
        "canvas": {"LtiResourceLinkRequest": ["course_navigation", "account_navigation", "link_selection"],
                   "LtiDeepLinkingRequest": ["assignment_selection", "link_selection", "editor_button"]},
    }[mode.name]
    return {
        "issuer": base,
        "authorization_endpoint": settings.auth_url,
        "token_endpoint": settings.token_url,
        "jwks_uri": settings.jwks_url,
        "registration_endpoint": base + "/registration",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", *SUPPORTED_SCOPES],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": list(SUPPORTED_CLAIMS),
        PLATFORM_CONFIGURATION: {
            "product_family_code": mode.product_family_code,
            "version": mode.platform_version,
            "messages_supported": [{"type": t, "placements": p} for t, p in placements.items()],
            "variables": ["Canvas.user.locale"] if mode.is_canvas else [],
        },
    }


# --- the registration -----------------------------------------------------------------------

def _is_url(value) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _bad(description: str) -> RegistrationError:
    return RegistrationError(400, "invalid_client_metadata", description)


def _string_list(value, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{name} must be a list of strings")
    return value


def _check_messages(messages) -> list[dict]:
    if not isinstance(messages, list):
        raise _bad("messages must be a list")
    for message in messages:
        if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
            raise _bad(f"each message needs a type among {', '.join(MESSAGE_TYPES)}")
        if "target_link_uri" in message and not _is_url(message["target_link_uri"]):
            raise _bad("a message's target_link_uri must be an http(s) URL")
        if "placements" in message:
            _string_list(message["placements"], "placements")
    return messages


def check_registration(body) -> dict:
    """The tool's registration, checked as Moodle and Canvas check it; RegistrationError (400) otherwise."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    if body.get("application_type") != "web":
        raise _bad("application_type must be 'web'")
    if "id_token" not in _string_list(body.get("response_types"), "response_types"):
        raise _bad("response_types must include 'id_token'")
    grants = _string_list(body.get("grant_types"), "grant_types")
    if not {"implicit", "client_credentials"} <= set(grants):
        raise _bad("grant_types must include 'implicit' and 'client_credentials'")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        raise _bad("token_endpoint_auth_method must be 'private_key_jwt'")
    if not isinstance(body.get("client_name"), str) or not body["client_name"].strip():
        raise _bad("client_name is required")
    for name in ("initiate_login_uri", "jwks_uri"):
        if not _is_url(body.get(name)):
            raise _bad(f"{name} must be an http(s) URL")
    redirect_uris = _string_list(body.get("redirect_uris"), "redirect_uris")
    if not redirect_uris or not all(_is_url(u) for u in redirect_uris):
        raise _bad("redirect_uris must list the tool's http(s) redirect URIs")
    if not isinstance(body.get("scope", ""), str):
        raise _bad("scope must be a space-separated string")
    config = body.get(TOOL_CONFIGURATION)
    if not isinstance(config, dict):
        raise _bad(f"{TOOL_CONFIGURATION} is required")
    if not isinstance(config.get("domain"), str) or not config["domain"]:
        raise _bad("the tool configuration's domain is required")
    if not _is_url(config.get("target_link_uri")):
        raise _bad("the tool configuration's target_link_uri must be an http(s) URL")
    _string_list(config.get("claims", []), "claims")
    _check_messages(config.get("messages", []))
    return body


def _client_id() -> str:
    return PREFIX + secrets.token_hex(6)


def _deployment_id(mode: Mode, row_id: int, client_id: str) -> str:
    """Moodle: the tool type id; Canvas: <id>:<context lti id>, as their deployment ids look."""
    if mode.is_moodle:
        return str(FIRST_MOODLE_TYPE_ID + row_id)
    return f"{row_id}:{hashlib.sha1(client_id.encode()).hexdigest()}"


def register(token: str | None, body, settings: Settings) -> tuple[Client, dict]:
    """Consume the token, keep the client; the client and the registration response for the tool."""
    now = time.time()
    with store.transaction() as conn:  # BEGIN IMMEDIATE: one registration at a time spends a token
        mode = modes.MODES[_token_row(conn, token)["mode"]]  # the token first (401), then the body (400)
        body = check_registration(body)
        config = body[TOOL_CONFIGURATION]
        granted = [s for s in dict.fromkeys(body.get("scope", "").split()) if s in SUPPORTED_SCOPES]
        wanted = [c for c in dict.fromkeys(config.get("claims", [])) if c in SUPPORTED_CLAIMS]
        claims = list(dict.fromkeys(["iss", "sub", *wanted]))
        client_id = _client_id()
        cursor = conn.execute(
            "INSERT INTO tool_clients (client_id, mode, issuer, deployment_id, name, login_url, redirect_uris, jwks_url,"
            " target_link_uri, scopes, claims, received, created_at) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (client_id, mode.name, settings.base_url, body["client_name"].strip()[:200], body["initiate_login_uri"],
             json.dumps(body["redirect_uris"]), body["jwks_uri"], config["target_link_uri"], " ".join(granted),
             " ".join(claims), json.dumps(body, ensure_ascii=False), now),
        )
        deployment_id = _deployment_id(mode, cursor.lastrowid, client_id)
        conn.execute("UPDATE tool_clients SET deployment_id = ? WHERE id = ?", (deployment_id, cursor.lastrowid))
        conn.execute("UPDATE registration_tokens SET used_at = ?, client_id = ? WHERE token_hash = ?",
                     (now, client_id, _hash(token or "")))
    client = find(client_id)
    assert client is not None
    return client, _response(mode, client, body)


def _response(mode: Mode, client: Client, body: dict) -> dict:
    """The registration echoed with the client id (RFC 7591 3.2.1), shaped as Moodle or Canvas answers."""
    tool = client.tool
    config = dict(body[TOOL_CONFIGURATION])
    config["claims"] = list(tool.claims)
    answer = {**body, "client_id": tool.client_id, "scope": " ".join(tool.scopes), TOOL_CONFIGURATION: config}
    if mode.is_moodle:
        # Moodle 4.5 answers with its tool type id as the deployment id, and only its deep linking messages.
        config["deployment_id"] = tool.deployment_id
        config["messages"] = [m for m in config.get("messages", []) if m.get("type") == "LtiDeepLinkingRequest"]
    return answer


# --- the clients ----------------------------------------------------------------------------

def _client(row) -> Client:
    tool = ToolClient(
        client_id=row["client_id"], issuer=row["issuer"], deployment_id=row["deployment_id"], name=row["name"],
        login_url=row["login_url"], redirect_uris=tuple(json.loads(row["redirect_uris"])), jwks_url=row["jwks_url"],
        target_link_uri=row["target_link_uri"], scopes=tuple(row["scopes"].split()), claims=tuple(row["claims"].split()),
    )
    return Client(mode=row["mode"], tool=tool, received=json.loads(row["received"]), created_at=row["created_at"])


def find(client_id: str) -> Client | None:
    with store.connection() as conn:
        row = conn.execute("SELECT * FROM tool_clients WHERE client_id = ?", (client_id,)).fetchone()
    return None if row is None else _client(row)


def all_clients() -> list[Client]:
    with store.connection() as conn:
        return [_client(r) for r in conn.execute("SELECT * FROM tool_clients ORDER BY id")]


def mode_for(client_id: str) -> Mode | None:
    """The Mode of a dynamically registered client, or None (modes.by_client_id asks)."""
    if not client_id.startswith(PREFIX):
        return None
    client = find(client_id)
    if client is None:
        return None
    base = modes.MODES[client.mode]
    return replace(base, client_id=client.tool.client_id, registered=client.tool)
