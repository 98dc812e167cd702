"""OIDC login and launch validation, extending pylti1p3's Flask classes.

pylti1p3 checks the state cookie, the nonce's existence, the registration, the
signature (without audience or clock leeway) and the message shape. We tighten it:
RS256 only, audience and azp, leeway for clock skew, the nonce bound to the login
that issued it and used once, the id_token used once, the JWKS refetched once on an
unknown kid, and every failure raised as a LaunchError with a code a person can act on.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from jwt.algorithms import RSAAlgorithm
from jwt.utils import base64url_decode, base64url_encode
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest, FlaskSessionService
from pylti1p3.exception import LtiException

from . import deep_linking
from . import state as launch_state
from .errors import LaunchError
from .state import SharedCacheStorage
from .tool_conf import DbToolConf

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
KNOWN_MESSAGES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
ADMIN_ROLES = {
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
}
USER_AGENT = "lti-tool/0.1 (+partnerships worksheet)"
# Real id_tokens are a few kilobytes (Moodle about 4, Canvas with custom fields about 10).
MAX_ID_TOKEN_LENGTH = 64 * 1024
# Claims the spec defines as JSON objects: anything else is refused before any of it is read.
OBJECT_CLAIMS = tuple(LTI + name for name in (
    "resource_link", "context", "custom", "launch_presentation", "tool_platform", "lis", "lti1p1")) + (
    deep_linking.SETTINGS_CLAIM, "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
    "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
)
# The login parameters kept with the state, to start the same login again in a new window.
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")
FRAME_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# How a launch proved it belongs to the browser that started the login (logged as "launch state via ...").
VIA_COOKIE, VIA_PLATFORM_STORAGE, VIA_NEW_WINDOW = "cookie", "platform storage", "new window"


def origin_of(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def storage_keys(state: str, nonce: str) -> tuple[str, str]:
    """The keys under which the login page asks the platform to keep the state and the nonce."""
    return f"lti1p3_state_{state}", f"lti1p3_nonce_{nonce}"


_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


class _Jws(jwt.PyJWS):
    """PyJWT's JWS, with its base64url alphabet check (GHSA-hxm8-2xgr-2p9m) made by a regular expression
    instead of one byte at a time in Python: that loop was a fifth of a launch's CPU for a 4 KB id_token.
    A padded or odd segment gets PyJWT's own check and error; signature and claims are PyJWT's own."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        if segment.endswith(b"=") or _BASE64URL.fullmatch(segment) is None:
            return jwt.PyJWS._decode_base64url_segment(segment, name)
        if len(segment) % 4 == 1:
            raise jwt.DecodeError(f"Invalid {name} padding")
        try:
            decoded = base64url_decode(segment)
        except (TypeError, binascii.Error) as err:
            raise jwt.DecodeError(f"Invalid {name} padding") from err
        if base64url_encode(decoded) != segment:  # one encoding only: no bits hidden in the last character
            raise jwt.DecodeError(f"Invalid {name} padding")
        return decoded


_JWT = jwt.PyJWT()
_JWT._jws = _Jws(options=_JWT._get_sig_options())


@lru_cache(maxsize=64)
def _public_key(jwk_json: str):
    """A platform's public key, parsed once per process (the same JWK text gives the same key)."""
    return RSAAlgorithm.from_jwk(jwk_json)


_local = threading.local()


def _http_session() -> requests.Session:
    """One HTTP session per thread for fetching platforms' key sets (kept alive between launches)."""
    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
        _local.session.headers["User-Agent"] = USER_AGENT
    return _local.session


class NeedsPlatformStorage(Exception):
    """The launch came without a state cookie, and its login kept the state in the platform's storage:
    the browser must fetch it from the platform (lti.get_data) and post it back (/lti/launch/verify)."""

    def __init__(self, state: str, login: dict[str, Any]):
        super().__init__("the state is in the platform's storage")
        self.state, self.login = state, login


class LoginRecordSession(FlaskSessionService):
    """pylti1p3 keeps each nonce under its own key; ours lives in the login's record (launch_state)
    and validate_nonce checks it there, so that extra write is skipped."""

    def save_nonce(self, nonce: str) -> None:
        return None


class ToolOIDCLogin(FlaskOIDCLogin):
    """Login initiation that remembers, per state, the nonce and the platform it was issued for."""

    def __init__(self, tool_conf: DbToolConf, state_ttl: int):
        request = FlaskRequest()
        super().__init__(request, tool_conf, session_service=LoginRecordSession(request))
        self.set_launch_data_storage(SharedCacheStorage())
        self.set_launch_data_lifetime(state_ttl)
        self._state_ttl = state_ttl
        self.login_record: dict[str, Any] = {}
        self.login_state: str = ""

    def storage_target(self) -> str | None:
        """The platform's storage frame (lti_storage_target), unless this login runs in a new window."""
        target = self._get_request_param("lti_storage_target")
        if not target or self._is_new_window_request() or not FRAME_NAME.match(target):
            return None
        return target

    def is_new_window(self) -> bool:
        return self._is_new_window_request()

    def validate_oidc_login(self):
        for param in ("iss", "login_hint"):
            if not self._get_request_param(param):
                raise LaunchError("bad_login", f"the login request has no {param}")
        try:
            return super().validate_oidc_login()
        except Exception as exc:  # pylti1p3 raises OIDCException("Could not find registration details")
            iss, client_id = self._get_request_param("iss"), self._get_request_param("client_id") or ""
            raise LaunchError("unknown_platform", f"issuer {iss!r}, client id {client_id!r}") from exc

    def _get_uuid(self) -> str:
        """The state's random part (pylti1p3 asks for nothing else): kept to name the login record."""
        self._state_id = secrets.token_urlsafe(24)
        return self._state_id

    def _generate_nonce(self) -> str:
        """A random nonce (pylti1p3's own ends with a time-based uuid1), kept for the login record."""
        self._nonce = secrets.token_urlsafe(32)
        return self._nonce

    def _prepare_redirect_url(self, launch_url: str) -> str:
        url = super()._prepare_redirect_url(launch_url)
        self.login_state = "state-" + self._state_id
        self.login_record = {
            "nonce": self._nonce,
            "iss": self._registration.get_issuer(),
            "client_id": self._registration.get_client_id(),
            "issued_at": int(time.time()),
            # For the second and third tiers: the platform's storage frame and origin, where to
            # continue, and how to start this login again in a new window.
            "storage_target": self.storage_target(),
            "platform_origin": origin_of(self._registration.get_auth_login_url()),
            "auth_url": url,
            "new_window": self._is_new_window_request(),
            "login_params": {k: v for k in LOGIN_PARAMS if (v := self._get_request_param(k))},
        }
        launch_state.save_state(self.login_state, self.login_record, self._state_ttl)
        return url


class ToolMessageLaunch(FlaskMessageLaunch):
    """A resource link or deep linking launch, validated strictly (see module docstring)."""

    def __init__(self, tool_conf: DbToolConf, *, leeway: int, jwks_ttl: int, timeout: float,
                 platform_values: tuple[str, str] | None = None):
        """platform_values: the state and nonce the browser read back from the platform's storage
        (lti.get_data), for a launch whose login used it (see validate_state)."""
        super().__init__(FlaskRequest(), tool_conf, launch_data_storage=SharedCacheStorage(),
                         requests_session=_http_session())
        self._leeway, self._jwks_ttl, self._timeout = leeway, jwks_ttl, timeout
        self._login_state: dict[str, Any] = {}
        self._platform_values = platform_values
        self._deployment_row = None
        self._nonce_used_by: str | None = None
        self._saved_state: dict[str, Any] | None = None
        self.state_via: str | None = None

    # -- the order of checks: cheap and trust-free first, the nonce is spent last --
    def validate(self) -> "ToolMessageLaunch":
        if self._restored:
            raise LaunchError("malformed_token", "a restored launch can't be validated")
        self._validated = True
        try:
            self.check_platform_error()
            self.validate_jwt_format()
            self.check_not_replayed()
            self.validate_state()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_deployment()
            self.validate_message()
            self.validate_nonce()
            self.save_launch_data()
        except LaunchError:
            self._validated = False
            raise
        except LtiException as exc:
            self._validated = False
            raise LaunchError("missing_claim", str(exc)) from exc
        return self

    def check_platform_error(self) -> None:
        error = self._get_request_param("error")
        if error:
            description = self._get_request_param("error_description") or ""
            raise LaunchError("platform_error", f"{error}: {description}".strip(": "))

    def validate_jwt_format(self) -> "ToolMessageLaunch":
        token = self._get_request_param("id_token")
        if not token:
            raise LaunchError("missing_id_token", "the launch request has no id_token")
        if len(token) > MAX_ID_TOKEN_LENGTH:
            raise LaunchError("malformed_token", f"the id_token is {len(token)} characters long, "
                                                 f"more than the {MAX_ID_TOKEN_LENGTH} a launch needs")
        try:
            super().validate_jwt_format()
        except LtiException as exc:
            raise LaunchError("malformed_token", str(exc)) from exc
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(self._jwt.get("body"), dict):
            raise LaunchError("malformed_token", "the id_token header or body is not a JSON object")
        return self

    def check_not_replayed(self) -> None:
        """A nonce is marked used with the hash of the id_token that spent it (save_launch_data): the same
        token again is a replay, refused before anything else is looked at."""
        nonce = self._jwt["body"].get("nonce")
        nonce = nonce if isinstance(nonce, str) and nonce else None
        state = self._get_request_param("state") or None
        # The nonce's mark and the login's record in one cache round trip (validate_state uses the record).
        self._nonce_used_by, self._saved_state = launch_state.lookup(nonce, state)
        if nonce is not None and self._nonce_used_by == self._get_id_token_hash():
            raise LaunchError("replayed", "this id_token was already accepted")

    def _get_id_token_hash(self) -> str:
        if not self._id_token_hash:
            self._id_token_hash = hashlib.sha256(self._get_id_token().encode("utf-8")).hexdigest()
        return self._id_token_hash

    def validate_state(self) -> "ToolMessageLaunch":
        """The launch belongs to this browser: its state cookie (first tier: a partitioned cookie in
        the frame, or a first-party one in a new window), or else the state and nonce the login page
        kept in the platform's storage (second tier). Without either, the error offers a new window."""
        state = self._get_request_param("state")
        if not state:
            raise LaunchError("missing_state", "the launch request has no state")
        saved = self._saved_state  # read with the nonce's mark by check_not_replayed, which validate() runs first
        cookie = self._cookie_service.get_cookie(state)
        if saved is None:
            raise LaunchError("state_mismatch", "the state is unknown, expired or already used")
        if cookie == state:
            self.state_via = VIA_NEW_WINDOW if saved.get("new_window") else VIA_COOKIE
        elif cookie is None and saved.get("storage_target"):
            self._check_platform_values(state, saved)
            self.state_via = VIA_PLATFORM_STORAGE
        elif cookie is None and not saved.get("new_window") and saved.get("login_params"):
            error = LaunchError("state_mismatch", "no state cookie came with the launch (third-party cookies blocked?)")
            error.new_window_params = dict(saved["login_params"])
            raise error
        else:
            raise LaunchError("state_mismatch", "the state cookie of this browser does not match")
        self._login_state = saved
        return self

    def _check_platform_values(self, state: str, saved: dict[str, Any]) -> None:
        if self._platform_values is None:
            raise NeedsPlatformStorage(state, saved)
        stored_state, stored_nonce = self._platform_values
        if not (hmac.compare_digest(stored_state.encode(), state.encode())
                and hmac.compare_digest(stored_nonce.encode(), str(saved.get("nonce", "")).encode())):
            launch_state.consume_state(state)  # one try: a wrong answer spends the login
            raise LaunchError("state_mismatch", "the platform's storage does not hold this login's state and nonce")

    def get_client_id(self) -> str:
        """azp when present; else the single audience. A list of audiences needs azp."""
        body = self._jwt.get("body", {})
        aud, azp = body.get("aud"), body.get("azp")
        if isinstance(aud, str):
            auds = [aud]
        elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
            auds = aud
        else:
            raise LaunchError("missing_claim", "the id_token has no aud")
        if azp is not None:
            if azp not in auds:
                raise LaunchError("wrong_audience", "azp is not one of the audiences")
            return azp
        if len(auds) != 1:
            raise LaunchError("wrong_audience", "several audiences and no azp")
        return auds[0]

    def get_iss(self) -> str:
        iss = self._jwt.get("body", {}).get("iss")
        if not iss or not isinstance(iss, str):
            raise LaunchError("missing_claim", "the id_token has no iss")
        return iss

    def validate_registration(self) -> "ToolMessageLaunch":
        iss, client_id = self.get_iss(), self.get_client_id()
        if iss != self._login_state.get("iss"):
            raise LaunchError("wrong_issuer", f"login was for {self._login_state.get('iss')!r}, token from {iss!r}")
        if client_id != self._login_state.get("client_id"):
            raise LaunchError("wrong_audience", f"login was for client {self._login_state.get('client_id')!r}, token for {client_id!r}")
        self._registration = self._tool_config.find_registration_by_params(iss, client_id)
        if self._registration is None:
            raise LaunchError("unknown_platform", f"issuer {iss!r}, client id {client_id!r}")
        return self

    def validate_jwt_signature(self) -> "ToolMessageLaunch":
        alg = self._jwt["header"].get("alg")
        if alg != "RS256":
            raise LaunchError("unsupported_alg", f"alg {alg!r}")
        public_key, _ = self.get_public_key()
        try:
            _JWT.decode(
                self._get_id_token(),
                public_key,
                algorithms=["RS256"],
                audience=self.get_client_id(),
                issuer=self.get_iss(),
                leeway=self._leeway,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchError("expired", str(exc)) from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchError("not_yet_valid", str(exc)) from exc
        except jwt.InvalidAudienceError as exc:
            raise LaunchError("wrong_audience", str(exc)) from exc
        except jwt.InvalidIssuerError as exc:
            raise LaunchError("wrong_issuer", str(exc)) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchError("missing_claim", str(exc)) from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchError("bad_signature", str(exc)) from exc
        return self

    def get_public_key(self):
        """The key named by the token's kid (RS256); on an unknown kid the JWKS is fetched again once."""
        kid = self._jwt["header"].get("kid")
        if not kid:
            raise LaunchError("unknown_kid", "the id_token header has no kid")
        url = self._registration.get_key_set_url()
        for force in (False, True):
            key_set = self._fetch_key_set(url, force)
            self._registration.set_key_set(key_set)
            jwk = next((k for k in key_set["keys"] if isinstance(k, dict) and k.get("kid") == kid
                        and k.get("alg", "RS256") == "RS256"), None)
            if jwk is None:
                continue
            try:
                return _public_key(json.dumps(jwk, sort_keys=True)), "RS256"
            except (ValueError, TypeError, jwt.InvalidKeyError):
                continue  # a broken key: the platform may have fixed it, so fetch again once
        raise LaunchError("unknown_kid", f"kid {kid!r} is not in {url}")

    def _fetch_key_set(self, url: str, force: bool) -> dict:
        key_set = None if force else launch_state.jwks_get(url)
        if key_set is not None:
            return key_set
        try:
            resp = self._requests_session.get(url, timeout=self._timeout)
            resp.raise_for_status()
            key_set = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise LaunchError("jwks_unavailable", f"{url}: {exc}") from exc
        if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
            raise LaunchError("jwks_unavailable", f"{url} did not return a JWKS")
        launch_state.jwks_put(url, key_set, self._jwks_ttl)
        return key_set

    def validate_deployment(self) -> "ToolMessageLaunch":
        deployment_id = self._jwt["body"].get(LTI + "deployment_id")
        if not deployment_id or not isinstance(deployment_id, str):
            raise LaunchError("missing_claim", "the id_token has no deployment_id")
        iss, client_id = self.get_iss(), self.get_client_id()
        self._deployment_row = self._tool_config.active_deployment(iss, client_id, deployment_id)
        if self._deployment_row is None:
            self._tool_config.record_pending_deployment(iss, client_id, deployment_id)
            raise LaunchError(
                "unknown_deployment", f"deployment {deployment_id!r}",
                issuer=iss, client_id=client_id, deployment_id=deployment_id,
            )
        return self

    def validate_message(self) -> "ToolMessageLaunch":
        body = self._jwt["body"]
        if body.get(LTI + "version") != "1.3.0":
            raise LaunchError("wrong_version", f"version {body.get(LTI + 'version')!r}")
        if not body.get("sub") or not isinstance(body.get("sub"), str):
            raise LaunchError("missing_sub", "the id_token has no sub")
        if not isinstance(body.get(LTI + "message_type"), str) or body[LTI + "message_type"] not in KNOWN_MESSAGES:
            raise LaunchError("unsupported_message", f"message type {body.get(LTI + 'message_type')!r}")
        if not isinstance(body.get(LTI + "roles"), list):
            raise LaunchError("missing_claim", "the id_token has no roles claim")
        if not all(isinstance(role, str) for role in body[LTI + "roles"]):
            raise LaunchError("missing_claim", "the roles claim holds something other than role names")
        for claim in OBJECT_CLAIMS:
            if claim in body and not isinstance(body[claim], dict):
                raise LaunchError("missing_claim", f"the claim {claim} is not a JSON object")
        try:
            super().validate_message()
        except LtiException as exc:
            raise LaunchError("missing_claim", str(exc)) from exc
        if body.get(LTI + "message_type") == "LtiDeepLinkingRequest":
            deep_linking.check_settings(body.get(deep_linking.SETTINGS_CLAIM))
        return self

    def validate_nonce(self) -> "ToolMessageLaunch":
        nonce = self._jwt["body"].get("nonce")
        if not nonce or not isinstance(nonce, str):
            raise LaunchError("missing_claim", "the id_token has no nonce")
        if self._nonce_used_by is not None:  # read by check_not_replayed; spending it is atomic (save_launch_data)
            raise LaunchError("replayed", "this nonce was already used")
        if nonce != self._login_state.get("nonce"):
            raise LaunchError("nonce_mismatch", "the nonce is not the one issued at login")
        return self

    def save_launch_data(self) -> "ToolMessageLaunch":
        """Spend the state, the nonce and the token; later requests carry our own launch token."""
        body = self._jwt["body"]
        ttl = max(int(body.get("exp", 0)) - int(time.time()), 0) + self._leeway + 3600
        if not launch_state.mark_used("nonce", body["nonce"], ttl, by=self._get_id_token_hash()):
            raise LaunchError("replayed", "this launch was accepted concurrently")
        launch_state.consume_state(self._get_request_param("state"))
        return self

    @property
    def claims(self) -> dict[str, Any]:
        return self._jwt["body"]

    @property
    def state(self) -> str:
        return self._get_request_param("state")

    def role_kind(self) -> str:
        """'instructor' for instructors, teaching assistants and administrators, else 'learner'."""
        roles = self.claims.get(LTI + "roles") or []
        admin = any(r in ADMIN_ROLES for r in roles)
        if self.check_teacher_access() or self.check_teaching_assistant_access() or admin:
            return "instructor"
        return "learner"

    def platform_keys(self) -> tuple[int, int]:
        """Our ids of the platform and deployment of a validated launch."""
        return self._deployment_row.platform_id, self._deployment_row.id

    def platform_identity(self) -> tuple[str, str, str]:
        return self.get_iss(), self.get_client_id(), self.claims[LTI + "deployment_id"]

    def deep_link_request(self) -> deep_linking.DeepLinkRequest:
        """A deep linking launch's settings with the platform and deployment that sent them."""
        iss, client_id, deployment_id = self.platform_identity()
        return deep_linking.DeepLinkRequest(iss, client_id, deployment_id, dict(self.claims[deep_linking.SETTINGS_CLAIM]))
