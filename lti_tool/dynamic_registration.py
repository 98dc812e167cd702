"""LTI Dynamic Registration, the tool's side (https://www.imsglobal.org/spec/lti-dr/v1p0).

An LMS administrator pastes TOOL_BASE_URL/lti/register into the LMS ("register by URL"); the LMS opens
it with `openid_configuration` (the URL of its configuration) and `registration_token`. The tool:

1. fetches the configuration and checks it (3.4 and 3.5.1: the URL starts with the issuer; issuer,
   authorization, token, key set and registration endpoints present);
2. posts its registration to the registration endpoint with the token as a bearer token (3.5.2): login,
   redirect and JWKS URLs, the name and email claims, the AGS and NRPS scopes, resource link and deep
   linking messages, and Canvas's extensions when the LMS says it is Canvas;
3. stores the LMS (issuer, the client id it answered with, its endpoints) and the deployment id when the
   answer carries one (Moodle's does; otherwise the first launch records it as pending).

Built on pylti1p3's DynamicRegistration (its registration data and hooks), with its fetching replaced:
every HTTP call has a timeout, a User-Agent, no redirects and a size limit, the configuration is checked
before the single-use token is spent, and each failure becomes a RegistrationFailed that says what
happened and what to do. The registration token is never logged nor shown.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import lazy_gettext as _l
from pylti1p3.dynamic_registration import DynamicRegistration

from . import registrations, tool_config
from .lti.errors import CataloguedError

log = logging.getLogger("lti_tool.registration")

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
USER_AGENT = "lti-tool/0.1 (Partnerships worksheet; LTI Dynamic Registration)"
MAX_BODY_BYTES = 512 * 1024
MAX_URL_LENGTH = 1024  # the platform table's URL columns (the issuer's: 512)
MAX_ISSUER_LENGTH = 512
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
CANVAS_ISSUER = "https://canvas.instructure.com"
CANVAS_HOSTED = "https://*.instructure.com"

# code: (status, title, what to do). Advice may name facts of the failure as %(name)s placeholders.
CATALOGUE: dict[str, tuple[int, Any, Any]] = {
    "missing_parameters": (400, _l("This address is for registering the tool from an LMS"), _l(
        "In your LMS, choose to register a tool by URL (Moodle: Manage tools, Tool URL, Add LTI Advantage; "
        "Canvas: Developer Keys, + LTI Registration) and paste this address: %(url)s")),
    "bad_configuration_url": (400, _l("The LMS sent a configuration address the tool cannot use"), _l(
        "Start the registration again from your LMS. If it happens again, an LMS administrator should check "
        "the LMS's own web address settings.")),
    "configuration_unreachable": (502, _l("The LMS's configuration could not be fetched"), _l(
        "Check that the tool's server can reach the LMS (address, firewall, certificate), "
        "then start the registration again from your LMS. Nothing was saved in the tool.")),
    "configuration_invalid": (502, _l("The LMS's configuration could not be read"), _l(
        "Start the registration again from your LMS. If it happens again, show this message to your LMS "
        "administrator. Nothing was saved in the tool.")),
    "issuer_mismatch": (400, _l("The LMS's configuration does not belong to the address it came from"), _l(
        "The configuration address must start with the LMS's issuer (%(issuer)s). An LMS administrator should "
        "check the LMS's web address settings (Moodle: wwwroot) and start the registration again. "
        "Nothing was saved in the tool.")),
    "configuration_incomplete": (400, _l("The LMS's configuration is incomplete"), _l(
        "The LMS must publish its issuer and its authorization, token, key set and registration endpoints. "
        "An LMS administrator should check the LMS's LTI settings. Nothing was saved in the tool.")),
    "token_refused": (400, _l("The LMS refused the registration token"), _l(
        "A registration token can be used only once, and only for a short time. Start the registration "
        "again from your LMS. Nothing was saved in the tool.")),
    "registration_refused": (400, _l("The LMS refused the tool's registration"), _l(
        "Show this message to your LMS administrator: the LMS's reason is above. Nothing was saved in the tool.")),
    "platform_unavailable": (502, _l("The LMS did not complete the registration"), _l(
        "Wait a moment, then start the registration again from your LMS. Nothing was saved in the tool.")),
    "registration_response_invalid": (502, _l("The LMS's answer to the registration could not be read"), _l(
        "Nothing was saved in the tool. The LMS may have kept a half-made registration: an LMS administrator "
        "can delete it, then start the registration again from your LMS.")),
}


class RegistrationFailed(CataloguedError):
    """A registration that cannot go on."""

    catalogue = CATALOGUE


@dataclass(frozen=True)
class Registered:
    """What a completed registration stored, for the answer page."""

    issuer: str
    client_id: str
    deployment_id: str | None
    product: str  # the platform's product_family_code ("moodle", "canvas", ...), "" when it did not say
    platform_name: str

    @property
    def is_moodle(self) -> bool:
        return self.product == "moodle"

    @property
    def is_canvas(self) -> bool:
        return self.product == "canvas"


class _Session(requests.Session):
    """A session whose every request has the tool's User-Agent and a timeout."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def is_http_url(value: Any) -> bool:
    """An http(s) URL with a host and no user info, short enough for the platform table."""
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc
    except ValueError:
        return False


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) URL (without any user info), else None."""
    try:
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:  # such as an unclosed [IPv6 address
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def starts_with_issuer(url: str, issuer: str) -> bool:
    """Whether url starts with issuer (LTI DR 3.5.1), at a boundary: https://lms.edu is not a prefix
    of https://lms.edu.evil.example/... nor of https://lms.education/..."""
    if not url.startswith(issuer):
        return False
    rest = url[len(issuer):]
    return issuer.endswith("/") or rest == "" or rest[0] in "/?#"


def _network_reason(error: requests.RequestException) -> str:
    """A short reason for a failed HTTP call (requests' own messages nest urllib3's)."""
    text = str(error)
    errno = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if isinstance(error, requests.exceptions.SSLError):
        return "the TLS connection failed (certificate?)"
    if isinstance(error, requests.ConnectionError):
        return f"could not connect ({errno.group(0).strip() if errno else type(error).__name__})"
    return type(error).__name__


class ToolDynamicRegistration(DynamicRegistration):
    """One registration of this tool with one LMS, from the two parameters the LMS sent."""

    client_name = tool_config.TITLE
    description = tool_config.DESCRIPTION

    def __init__(self, base_url: str, openid_configuration: str, registration_token: str | None, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.urls = tool_config.urls(self.base_url)
        self.openid_configuration_url = openid_configuration
        self.registration_token = registration_token or None
        self.timeout = timeout
        self.platform_configuration: dict[str, Any] = {}
        self.platform_origins: tuple[str, ...] = ()  # who may frame the answer, once the configuration is checked

    # --- what pylti1p3 puts in the registration -------------------------------------------------

    def get_request_session(self) -> requests.Session:
        return _Session(self.timeout)

    def get_initiate_login_uri(self) -> str:
        return self.urls["login"]

    def get_jwks_uri(self) -> str:
        return self.urls["jwks"]

    def get_redirect_uris(self) -> list[str]:
        return [self.urls["launch"]]

    def get_scopes(self) -> list[str]:
        return list(tool_config.SCOPES)

    def get_domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def get_target_link_uri(self) -> str:
        return self.urls["launch"]

    def get_claims(self) -> list[str]:
        return list(tool_config.CLAIMS)

    def get_messages(self) -> list[dict]:
        return tool_config.registration_messages(self.base_url, self.is_canvas)

    def get_logo_uri(self) -> str:
        return self.urls["icon"]

    def get_openid_configuration_endpoint(self) -> str:
        return self.openid_configuration_url

    def get_registration_token(self) -> str | None:
        return self.registration_token

    @property
    def product(self) -> str:
        block = self.platform_configuration.get(PLATFORM_CONFIGURATION)
        code = block.get("product_family_code") if isinstance(block, dict) else None
        return code.strip().lower() if isinstance(code, str) else ""

    @property
    def is_canvas(self) -> bool:
        return self.product == "canvas"

    def lti_registration_data(self) -> dict[str, Any]:
        data = super().lti_registration_data()
        data[TOOL_CONFIGURATION].update(tool_config.registration_extras(self.is_canvas))
        return data

    # --- the exchange -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.registration_token:
            # Canvas wants the token on the configuration request too; for the others it is harmless.
            headers["Authorization"] = "Bearer " + self.registration_token
        return headers

    def _scrub(self, text: str) -> str:
        """text without the registration token (an LMS could echo it in an error)."""
        text = " ".join(str(text).split())[:500]
        return text.replace(self.registration_token, "[registration token]") if self.registration_token else text

    def _call(self, method: str, url: str, what: str, unreachable: str, unreadable: str,
              **kwargs) -> tuple[requests.Response, bytes]:
        """One HTTP call to the LMS: the response and its body (at most MAX_BODY_BYTES), never following redirects."""
        try:
            with self.get_request_session() as session:
                response = session.request(method, url, headers=self._headers(), allow_redirects=False, stream=True,
                                           **kwargs)
                body = b""
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        response.close()
                        raise RegistrationFailed(unreadable, f"{what}: the answer is larger than {MAX_BODY_BYTES} bytes")
        except requests.Timeout as error:
            raise RegistrationFailed(unreachable, f"{what}: no answer within {self.timeout:g} s") from error
        except requests.RequestException as error:
            raise RegistrationFailed(unreachable, f"{what}: {_network_reason(error)}") from error
        return response, body

    @staticmethod
    def _json_object(body: bytes) -> dict | None:
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            return None
        return data if isinstance(data, dict) else None

    def _platform_reason(self, body: bytes) -> str:
        """The LMS's own explanation of a refusal (OAuth error fields), else the start of its answer."""
        data = self._json_object(body) or {}
        parts = [data.get(k) for k in ("error", "error_description", "message") if isinstance(data.get(k), str)]
        text = ": ".join(parts) if parts else body[:300].decode("utf-8", "replace")
        return self._scrub(text)

    def get_openid_configuration(self) -> dict[str, Any]:
        """The LMS's configuration, checked (LTI DR 3.4, 3.5.1); replaces pylti1p3's, which has no timeout."""
        url = self.openid_configuration_url
        what = f"GET {url}"
        response, body = self._call("GET", url, what, "configuration_unreachable", "configuration_invalid")
        if response.status_code in (401, 403):
            raise RegistrationFailed("token_refused", f"{what} answered {response.status_code}: {self._platform_reason(body)}")
        if not 200 <= response.status_code < 300:
            raise RegistrationFailed("configuration_invalid", f"{what} answered {response.status_code}")
        config = self._json_object(body)
        if config is None:
            raise RegistrationFailed("configuration_invalid", f"{what} did not answer with a JSON object")
        issuer = config.get("issuer")
        if not is_http_url(issuer) or len(issuer) > MAX_ISSUER_LENGTH:
            raise RegistrationFailed("configuration_incomplete", f"the configuration at {url} has no issuer URL "
                                     f"(of at most {MAX_ISSUER_LENGTH} characters)")
        if not starts_with_issuer(url, issuer):
            raise RegistrationFailed("issuer_mismatch", f"the configuration address {url} does not start with its "
                                     f"issuer {issuer}", issuer=issuer)
        missing = [name for name in ENDPOINTS if not is_http_url(config.get(name))]
        if missing:
            raise RegistrationFailed("configuration_incomplete", f"the configuration of {issuer} lacks "
                                     f"{', '.join(missing)} (or they are not http(s) URLs of at most "
                                     f"{MAX_URL_LENGTH} characters)")
        self.platform_configuration = config
        self.platform_origins = self._origins(config)
        return config

    def _origins(self, config: Mapping[str, Any]) -> tuple[str, ...]:
        """Where the LMS's pages live: they may frame the answer (as headers.py lets registered platforms)."""
        found = {origin_of(self.openid_configuration_url), origin_of(config["issuer"]),
                 origin_of(config["authorization_endpoint"]), origin_of(config["token_endpoint"])}
        if config["issuer"].rstrip("/") == CANVAS_ISSUER:
            found.add(CANVAS_HOSTED)  # a hosted Canvas shows its admin pages on each school's subdomain
        return tuple(sorted(o for o in found if o))

    def register(self) -> Registered:
        """The whole exchange; RegistrationFailed when it cannot complete (nothing is stored then)."""
        try:
            return self._register()
        except RegistrationFailed as failure:
            failure.detail = self._scrub(failure.detail)
            raise

    def _register(self) -> Registered:
        url = self.openid_configuration_url
        if not is_http_url(url):
            raise RegistrationFailed("bad_configuration_url", f"openid_configuration must be an http(s) URL (got {url[:200]!r})")
        config = self.get_openid_configuration()
        endpoint = config["registration_endpoint"]
        what = f"POST {endpoint}"
        response, body = self._call("POST", endpoint, what, "platform_unavailable", "registration_response_invalid",
                                    json=self.lti_registration_data())
        status = response.status_code
        if status in (401, 403):
            raise RegistrationFailed("token_refused", f"{what} answered {status}: {self._platform_reason(body)}")
        if 400 <= status < 500:
            raise RegistrationFailed("registration_refused", f"{what} answered {status}: {self._platform_reason(body)}")
        if not 200 <= status < 300:
            raise RegistrationFailed("platform_unavailable", f"{what} answered {status}")
        answer = self._json_object(body)
        if answer is None:
            raise RegistrationFailed("registration_response_invalid", f"{what} did not answer with a JSON object")
        return self.complete_registration(config, answer)

    def complete_registration(self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]) -> Registered:
        """Store the LMS and its deployment (pylti1p3's hook)."""
        client_id = openid_registration.get("client_id")
        if isinstance(client_id, int) and not isinstance(client_id, bool):
            client_id = str(client_id)
        if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 255:
            raise RegistrationFailed("registration_response_invalid", "the LMS's answer has no client_id")
        tool_block = openid_registration.get(TOOL_CONFIGURATION)
        deployment_id = tool_block.get("deployment_id") if isinstance(tool_block, dict) else None
        if isinstance(deployment_id, int) and not isinstance(deployment_id, bool):
            deployment_id = str(deployment_id)
        if not isinstance(deployment_id, str) or not deployment_id.strip() or len(deployment_id) > 255:
            deployment_id = None
        issuer = openid_configuration["issuer"]
        audience = openid_configuration.get("authorization_server")
        name = self._platform_name(issuer)
        try:
            registrations.add_platform(
                issuer=issuer, client_id=client_id.strip(), name=name,
                auth_login_url=openid_configuration["authorization_endpoint"],
                auth_token_url=openid_configuration["token_endpoint"],
                key_set_url=openid_configuration["jwks_uri"],
                auth_audience=audience if isinstance(audience, str) and 0 < len(audience) <= 1024 else None,
                deployment_ids=[deployment_id] if deployment_id else [],
            )
        except registrations.RegistrationError as error:
            raise RegistrationFailed("configuration_incomplete", str(error)) from error
        log.info("dynamic registration: issuer=%s client_id=%s deployment_id=%s product=%s", issuer, client_id,
                 deployment_id or "(none yet)", self.product or "unknown")
        return Registered(issuer=issuer, client_id=client_id.strip(), deployment_id=deployment_id, product=self.product,
                          platform_name=name)

    def _platform_name(self, issuer: str) -> str:
        label = {"moodle": "Moodle", "canvas": "Canvas"}.get(self.product, self.product[:60] or "LMS")
        return f"{label} ({issuer})"[:255]
