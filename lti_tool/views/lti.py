"""LTI endpoints: OIDC login initiation, launch, and the tool's public keys."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pylti1p3.contrib.flask import FlaskCookieService, FlaskRequest

from .. import keys, launches, tool_config
from ..lti import deep_linking, launch_token
from ..lti import state as launch_state
from ..lti.errors import LaunchError
from ..lti.launch import NeedsPlatformStorage, ToolMessageLaunch, ToolOIDCLogin, origin_of, storage_keys
from ..lti.tool_conf import DbToolConf

bp = Blueprint("lti", __name__)
log = logging.getLogger("lti_tool.launch")


def launch_url() -> str:
    return current_app.config["TOOL_BASE_URL"] + "/lti/launch"


@bp.route("/lti/login", methods=["GET", "POST"])
def login():
    """OIDC third-party login initiation: remember state and nonce, send the browser to the LMS.

    With lti_storage_target, a page asks the platform to keep the state and nonce (LTI client-side
    postMessage storage) and then goes on to the LMS; if the platform does not answer, the page goes
    through /lti/login/continue, which sets the state cookie instead."""
    target = request.values.get("target_link_uri")
    if target and not target.startswith(current_app.config["TOOL_BASE_URL"] + "/"):
        raise LaunchError("bad_login", f"target_link_uri {target!r} is not a URL of this tool")
    oidc = ToolOIDCLogin(DbToolConf(), current_app.config["OIDC_STATE_TTL"])
    storage_target = oidc.storage_target()
    if storage_target is None:
        if oidc.is_new_window():
            log.info("login in a new window: the state cookie is first-party there")
        return oidc.redirect(launch_url())
    auth_url = oidc.get_redirect_object(launch_url()).get_redirect_url()  # the state cookie is not set here
    record = oidc.login_record
    state_key, nonce_key = storage_keys(oidc.login_state, record["nonce"])
    log.info("login: asking the platform to keep the state (lti_storage_target=%s)", storage_target)
    return render_template(
        "lti/platform_storage.html", mode="login", target=storage_target, platform_origin=record["platform_origin"],
        state=oidc.login_state, nonce=record["nonce"], state_key=state_key, nonce_key=nonce_key, auth_url=auth_url,
        continue_url=url_for("lti.login_continue", state=oidc.login_state),
    )


@bp.get("/lti/login/continue")
def login_continue():
    """The platform did not answer the storage request: keep the state in a cookie (partitioned
    over https) and go on to the LMS, as a login without lti_storage_target does."""
    state = request.args.get("state") or ""
    record = launch_state.load_state(state) if state else None
    if record is None or not record.get("auth_url"):
        raise LaunchError("state_mismatch", "the login to continue is unknown, expired or already used")
    if not launch_state.mark_used("login-continue", state, current_app.config["OIDC_STATE_TTL"]):
        raise LaunchError("state_mismatch", "this login was already continued")
    launch_state.update_state(state, {"storage_target": None}, current_app.config["OIDC_STATE_TTL"])
    log.info("login: the platform did not keep the state; using a state cookie")
    cookies = FlaskCookieService(FlaskRequest())
    cookies.set_cookie(state, state, 5 * 60)
    response = redirect(record["auth_url"])
    cookies.update_response(response)
    return response


def _message_launch(platform_values: tuple[str, str] | None = None) -> ToolMessageLaunch:
    config = current_app.config
    return ToolMessageLaunch(
        DbToolConf(),
        leeway=config["JWT_LEEWAY_SECONDS"],
        jwks_ttl=config["PLATFORM_JWKS_TTL"],
        timeout=config["HTTP_TIMEOUT_SECONDS"],
        platform_values=platform_values,
    )


@bp.route("/lti/launch", methods=["POST"])
def launch():
    """Validate the id_token, record who launched what, and show their page."""
    message = _message_launch()
    try:
        message.validate()
    except NeedsPlatformStorage as need:
        return _platform_storage_check(need)
    return _accept(message)


@bp.post("/lti/launch/verify")
def launch_verify():
    """The launch again, with the state and nonce read back from the platform's storage by the tool's
    own page (static/lti_storage.js). Only that page may post here (Origin), and the values must be the
    ones kept for this state at login, once: a posted form from elsewhere can't log anyone in."""
    if not _from_this_tool():
        raise LaunchError("state_mismatch", "the platform storage answer did not come from the tool's own page")
    values = (request.form.get("lti_storage_state") or "", request.form.get("lti_storage_nonce") or "")
    if not all(values):
        raise LaunchError("state_mismatch", "the platform's storage did not return this login's state and nonce")
    message = _message_launch(platform_values=values)
    try:
        message.validate()
    except NeedsPlatformStorage as exc:  # not reached with platform_values; never a 500
        raise LaunchError("state_mismatch", "the platform storage check did not complete") from exc
    return _accept(message)


def _from_this_tool() -> bool:
    tool_origin = origin_of(current_app.config["TOOL_BASE_URL"])
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == tool_origin
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


def _platform_storage_check(need: NeedsPlatformStorage):
    """A page that reads the state and nonce back from the platform and posts them to /lti/launch/verify."""
    state_key, nonce_key = storage_keys(need.state, need.login["nonce"])
    log.info("launch: no state cookie; reading the state from the platform's storage (%s)", need.login["storage_target"])
    return render_template(
        "lti/platform_storage.html", mode="verify", target=need.login["storage_target"],
        platform_origin=need.login.get("platform_origin") or "", state_key=state_key, nonce_key=nonce_key,
        id_token=request.form.get("id_token", ""), state=need.state,
        new_window_url=new_window_url(need.login.get("login_params")),
    )


def new_window_url(login_params: dict | None) -> str | None:
    """The tool's login URL with the LMS's original login parameters, to start again in a new window."""
    if not login_params:
        return None
    params = {**login_params, "lti1p3_new_window": "1"}
    return current_app.config["TOOL_BASE_URL"] + "/lti/login?" + urlencode(params)


def _accept(message: ToolMessageLaunch):
    config = current_app.config
    iss, client_id, _deployment = message.platform_identity()
    role = message.role_kind()
    if message.is_deep_link_launch():
        identity, endpoint = _record_deep_linking(message, role), "deep_linking.choose"
    else:
        identity = launches.record_launch(message.claims, *message.platform_keys(), role)
        endpoint = "instructor.home" if role == "instructor" else "learner.home"
    log.info("launch accepted: iss=%s client_id=%s role=%s person=%s; launch state via %s", iss, client_id, role,
             identity.person_id, message.state_via)
    token = launch_token.issue(identity, config["SECRET_KEY"])
    response = redirect(url_for(endpoint, lt=token), code=303)
    # pylti1p3 leaves one state cookie per launch; expire this one now that it is spent.
    if message.state_via != "platform storage":
        secure = request.is_secure  # a partitioned cookie is only removed by a Set-Cookie that is partitioned too
        response.delete_cookie(f"lti1p3-{message.state}", path="/", secure=secure, httponly=True,
                               samesite="None" if secure else None, partitioned=secure)
    return response


def _record_deep_linking(message: ToolMessageLaunch, role: str) -> launch_token.LaunchIdentity:
    """A deep linking launch (instructors only): its settings stay in the cache, named by the launch token."""
    if role != "instructor":
        log.warning("deep linking refused: role %s may not add content (iss=%s)", role, message.get_iss())
        abort(403, description=_("Only instructors, teaching assistants and administrators can add activities "
                                 "to the course with this tool."))
    key = deep_linking.save_request(message.deep_link_request(), current_app.config["LAUNCH_TOKEN_MAX_AGE"])
    return launches.record_deep_linking_launch(message.claims, *message.platform_keys(), role, key)


@bp.get("/lti/canvas.json")
def canvas_json():
    """The Canvas developer key configuration (paste this URL into "Enter URL")."""
    return jsonify(tool_config.canvas_config(current_app.config["TOOL_BASE_URL"]))


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(keys.jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def launch_error_page(error: LaunchError):
    """Every refused login or launch: a 4xx page saying what went wrong and what to do."""
    log.warning("launch refused: %s (%s) path=%s", error.code, error.detail, request.path)
    url = new_window_url(getattr(error, "new_window_params", None))
    if url:
        log.info("launch needs a new window: no state cookie and no platform storage; offering one")
        return render_template("lti/new_window.html", title=error.title, detail=error.detail, advice=error.advice,
                               code=error.code, new_window_url=url), error.status
    return render_template("error.html", title=error.title, detail=error.detail, advice=error.advice, code=error.code), error.status
