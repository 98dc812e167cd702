"""Register a tool by URL (LTI Dynamic Registration), as Moodle's "Add LTI Advantage" or Canvas's
"+ LTI Registration" do: the admin page, the LMS's openid-configuration, its registration endpoint."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import render_template, request

from .. import clients, faults, modes, settings, stats
from . import bp
from .common import error_json, json_response

NO_STORE = {"Cache-Control": "no-store"}


def _tool_url(value: str | None) -> str | None:
    """The tool's registration URL when it is an http(s) URL, else None."""
    value = (value or "").strip()
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc and len(value) <= 2048 else None


def _with_params(url: str, **params: str) -> str:
    """url with params added to its query (the tool's own parameters stay, as Canvas keeps them)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


@bp.get("/register")
def register_page():
    """The admin page. With ?tool=<the tool's registration URL>&mode=moodle|canvas it starts a registration:
    a one-time token, and the tool's page in a frame (#registration) with openid_configuration and
    registration_token. static/register.js shows when the tool sends org.imsglobal.lti.close."""
    conf = settings.current()
    mode = modes.by_name(request.args.get("mode")) or modes.MOODLE
    default_tool = conf.tool_base_url + "/lti/register"
    tool_url = _tool_url(request.args.get("tool"))
    frame_src, error = None, None
    if "tool" in request.args and tool_url is None:
        error = "The tool's registration URL must be an http(s) URL."
    elif tool_url is not None:
        token = clients.issue_token(mode)
        config_url = conf.base_url + "/.well-known/openid-configuration" + ("?mode=canvas" if mode.is_canvas else "")
        frame_src = _with_params(tool_url, openid_configuration=config_url, registration_token=token)
    status = 400 if error else 200
    return render_template("devlms/register.html", mode=mode, modes=modes.MODES.values(), tool_url=tool_url or default_tool,
                           frame_src=frame_src, error=error, registered=clients.all_clients()), status, NO_STORE


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    """The LMS's configuration. ?mode=canvas: Canvas's, which wants the registration token as a bearer token."""
    mode = modes.by_name(request.args.get("mode")) or modes.MOODLE
    if mode.is_canvas:
        try:
            token_mode = clients.check_token(clients.bearer(request.headers.get("Authorization")))
        except clients.RegistrationError as error:
            return error_json(error.status, error.error, error.description, NO_STORE)
        if token_mode.name != mode.name:
            return error_json(401, "invalid_token", "the registration token was issued for another mode", NO_STORE)
    return json_response(clients.openid_configuration(settings.current(), mode), headers=NO_STORE)


@bp.post("/registration")
def registration():
    """The registration endpoint: the tool's registration, with the token as a bearer token (LTI DR 3.5.2)."""
    stats.bump("registration_requests")
    try:
        faults.check_service("registration")
        body = request.get_json(force=True, silent=True)
        client, answer = clients.register(clients.bearer(request.headers.get("Authorization")), body,
                                          settings.current())
    except faults.InjectedFault as fault:
        stats.bump("registration_errors")
        return error_json(fault.status, "injected_fault", fault.message, NO_STORE)
    except clients.RegistrationError as error:
        stats.bump("registration_errors")
        return json_response({"error": error.error, "error_description": error.description}, error.status,
                             headers=NO_STORE)
    stats.bump("registrations")
    return json_response(answer, 201 if client.mode == "canvas" else 200, headers=NO_STORE)


@bp.get("/api/registrations")
def registrations_json():
    """Every client registered by dynamic registration, with what its tool sent."""
    return json_response({"registrations": [c.as_json() for c in clients.all_clients()]})
