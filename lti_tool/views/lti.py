"""LTI endpoints: OIDC login initiation, launch, and the tool's public keys."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import keys, launches, tool_config
from ..lti import deep_linking, launch_token
from ..lti.errors import LaunchError
from ..lti.launch import ToolMessageLaunch, ToolOIDCLogin
from ..lti.tool_conf import DbToolConf

bp = Blueprint("lti", __name__)
log = logging.getLogger("lti_tool.launch")


def launch_url() -> str:
    return current_app.config["TOOL_BASE_URL"] + "/lti/launch"


@bp.route("/lti/login", methods=["GET", "POST"])
def login():
    """OIDC third-party login initiation: remember state and nonce, send the browser to the LMS."""
    target = request.values.get("target_link_uri")
    if target and not target.startswith(current_app.config["TOOL_BASE_URL"] + "/"):
        raise LaunchError("bad_login", f"target_link_uri {target!r} is not a URL of this tool")
    oidc = ToolOIDCLogin(DbToolConf(), current_app.config["OIDC_STATE_TTL"])
    return oidc.redirect(launch_url())


@bp.route("/lti/launch", methods=["POST"])
def launch():
    """Validate the id_token, record who launched what, and show their page."""
    config = current_app.config
    message = ToolMessageLaunch(
        DbToolConf(),
        leeway=config["JWT_LEEWAY_SECONDS"],
        jwks_ttl=config["PLATFORM_JWKS_TTL"],
        timeout=config["HTTP_TIMEOUT_SECONDS"],
    )
    message.validate()
    iss, client_id, _deployment = message.platform_identity()
    role = message.role_kind()
    if message.is_deep_link_launch():
        identity, endpoint = _record_deep_linking(message, role), "deep_linking.choose"
    else:
        identity = launches.record_launch(message.claims, iss, client_id, role)
        endpoint = "instructor.home" if role == "instructor" else "learner.home"
    log.info("launch accepted: iss=%s client_id=%s role=%s person=%s", iss, client_id, role, identity.person_id)
    token = launch_token.issue(identity, config["SECRET_KEY"])
    response = redirect(url_for(endpoint, lt=token), code=303)
    # pylti1p3 leaves one state cookie per launch; expire this one now that it is spent.
    response.delete_cookie(f"lti1p3-{message.state}", path="/")
    return response


def _record_deep_linking(message: ToolMessageLaunch, role: str) -> launch_token.LaunchIdentity:
    """A deep linking launch (instructors only): its settings stay in the cache, named by the launch token."""
    if role != "instructor":
        log.warning("deep linking refused: role %s may not add content (iss=%s)", role, message.get_iss())
        abort(403, description=_("Only instructors, teaching assistants and administrators can add activities "
                                 "to the course with this tool."))
    iss, client_id, _deployment = message.platform_identity()
    key = deep_linking.save_request(message.deep_link_request(), current_app.config["LAUNCH_TOKEN_MAX_AGE"])
    return launches.record_deep_linking_launch(message.claims, iss, client_id, role, key)


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
    return render_template("error.html", title=error.title, detail=error.detail, advice=error.advice, code=error.code), error.status
