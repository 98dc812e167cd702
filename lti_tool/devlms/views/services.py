"""AGS (line items, scores, results) and NRPS (memberships) endpoints, behind bearer tokens."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

from .. import activities, ags, faults, modes, nrps, paging, roster, settings, stats, tokens
from ..claims import AGS_SCOPES
from ..modes import Mode
from . import bp
from .common import error_json, json_response, public_url

LINEITEM, LINEITEM_READ, RESULT_READ, SCORE = AGS_SCOPES
COURSE_PATH = "/courses/<context_id>"
ITEM_PATHS = (COURSE_PATH + "/lineitems/<int:item_id>", COURSE_PATH + "/lineitems/<int:item_id>/lineitem")


class ServiceError(Exception):
    """A refused service call: status, OAuth-style error code, message, extra headers."""

    def __init__(self, status: int, error: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the mode of the client the bearer token was issued to, and the token."""

    mode: Mode
    token: tokens.AccessToken


def _bearer() -> str | None:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _unauthorized(message: str) -> ServiceError:
    stats.bump("service_unauthorized")
    challenge = f'Bearer realm="practice-lms", error="invalid_token", error_description="{message}"'
    return ServiceError(401, "invalid_token", message, {"WWW-Authenticate": challenge})


def authorize_call(kind: str, scopes: set[str]) -> Caller:
    """Faults first, then the bearer token (401), Canvas's User-Agent rule (403), the scope (403)."""
    faults.check_service(kind)
    raw = _bearer()
    if raw is None:
        raise _unauthorized("a bearer access token is required")
    token = tokens.find_access_token(raw)
    if token is None:
        raise _unauthorized("the access token is unknown or has expired")
    mode = modes.by_client_id(token.client_id)
    if mode.is_canvas and not request.headers.get("User-Agent"):
        raise ServiceError(403, "invalid_request", "a User-Agent header is required")
    faults.check_unauthorized()
    if not scopes & token.scopes:
        raise ServiceError(403, "insufficient_scope", f"this call needs one of the scopes: {' '.join(sorted(scopes))}")
    return Caller(mode, token)


def _check_course(context_id: str, mode: Mode) -> None:
    if roster.course(context_id) is None:
        raise ServiceError(404, "not_found", f"no course {context_id!r}")
    type_id = request.args.get("type_id")
    if type_id is not None and type_id != mode.deployment_id(settings.current()):
        raise ServiceError(400, "invalid_request", f"type_id {type_id!r} is not a tool type of this LMS")


def _lineitem(context_id: str, item_id: int) -> ags.LineItem:
    item = ags.get_lineitem(context_id, item_id)
    if item is None:
        raise ServiceError(404, "not_found", f"no line item {item_id} in course {context_id}")
    return item


def _json_body(media_type: str) -> object:
    if request.mimetype != media_type:
        raise ServiceError(415, "invalid_request", f"Content-Type must be {media_type} (got {request.mimetype or 'none'})")
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ServiceError(400, "invalid_request", "the body is not JSON")
    return body


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    return error_json(error.status, error.error, error.message, error.headers)


@bp.errorhandler(ags.AgsError)
def _ags_error(error: ags.AgsError):
    return error_json(error.status, "invalid_request" if error.status < 409 else "conflict", error.message)


@bp.errorhandler(paging.PagingError)
def _paging_error(error: paging.PagingError):
    return error_json(400, "invalid_request", str(error))


@bp.errorhandler(faults.InjectedFault)
def _injected(fault: faults.InjectedFault):
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
    if fault.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return error_json(fault.status, "injected_fault", fault.message, headers)


# --- line items -----------------------------------------------------------------------------

@bp.get(COURSE_PATH + "/lineitems")
def lineitems_list(context_id: str):
    """The course's line items; resource_link_id, resource_id, tag filter; limit/page page."""
    caller = authorize_call("ags", {LINEITEM, LINEITEM_READ})
    stats.bump("lineitem_requests")
    _check_course(context_id, caller.mode)
    limit, page = paging.parse(request.args)
    items = ags.list_lineitems(context_id, request.args.get("resource_link_id"), request.args.get("resource_id"),
                               request.args.get("tag"))
    shown, more = paging.slice_page(items, limit, page)
    conf = settings.current()
    body = [ags.lineitem_json(conf, caller.mode, i) for i in shown]
    link = paging.link_header(public_url(), limit, page, more)
    return json_response(body, content_type=ags.LINEITEMS_TYPE, headers={"Link": link} if link else None)


@bp.post(COURSE_PATH + "/lineitems")
def lineitems_create(context_id: str):
    """Create a line item (201, with its URL in Location)."""
    caller = authorize_call("ags", {LINEITEM})
    stats.bump("lineitem_requests")
    _check_course(context_id, caller.mode)
    item = ags.create_lineitem(context_id, _json_body(ags.LINEITEM_TYPE), lambda link: activities.find(link) is not None)
    body = ags.lineitem_json(settings.current(), caller.mode, item)
    return json_response(body, 201, ags.LINEITEM_TYPE, {"Location": body["id"]})


@bp.get(ITEM_PATHS[0])
@bp.get(ITEM_PATHS[1])
def lineitem_get(context_id: str, item_id: int):
    """One line item."""
    caller = authorize_call("ags", {LINEITEM, LINEITEM_READ})
    stats.bump("lineitem_requests")
    _check_course(context_id, caller.mode)
    item = _lineitem(context_id, item_id)
    return json_response(ags.lineitem_json(settings.current(), caller.mode, item), content_type=ags.LINEITEM_TYPE)


@bp.put(ITEM_PATHS[0])
@bp.put(ITEM_PATHS[1])
def lineitem_put(context_id: str, item_id: int):
    """Replace a line item's label, scoreMaximum, resourceId, tag, dates."""
    caller = authorize_call("ags", {LINEITEM})
    stats.bump("lineitem_requests")
    _check_course(context_id, caller.mode)
    item = ags.update_lineitem(_lineitem(context_id, item_id), _json_body(ags.LINEITEM_TYPE))
    return json_response(ags.lineitem_json(settings.current(), caller.mode, item), content_type=ags.LINEITEM_TYPE)


@bp.delete(ITEM_PATHS[0])
@bp.delete(ITEM_PATHS[1])
def lineitem_delete(context_id: str, item_id: int):
    """Delete a line item and its results (204)."""
    caller = authorize_call("ags", {LINEITEM})
    stats.bump("lineitem_requests")
    _check_course(context_id, caller.mode)
    ags.delete_lineitem(_lineitem(context_id, item_id))
    return "", 204


# --- scores and results ---------------------------------------------------------------------

@bp.post(ITEM_PATHS[0] + "/scores")
@bp.post(ITEM_PATHS[1] + "/scores")
def scores_post(context_id: str, item_id: int):
    """Apply a score under the calling client's platform rules."""
    stats.bump("score_posts")
    caller = authorize_call("ags", {SCORE})
    _check_course(context_id, caller.mode)
    item = _lineitem(context_id, item_id)
    body = _json_body(ags.SCORE_TYPE)
    ags.post_score(caller.mode, item, body, caller.token.client_id)
    if caller.mode.is_moodle:
        return "", 200
    conf = settings.current()
    user_id = body["userId"]
    result_url = paging.with_params(ags.results_url(conf, caller.mode, context_id, item_id), user_id=user_id)
    return json_response({"resultUrl": result_url})


@bp.get(ITEM_PATHS[0] + "/results")
@bp.get(ITEM_PATHS[1] + "/results")
def results_get(context_id: str, item_id: int):
    """The line item's results (user_id filters to one person; limit/page page)."""
    caller = authorize_call("ags", {RESULT_READ})
    stats.bump("result_requests")
    _check_course(context_id, caller.mode)
    item = _lineitem(context_id, item_id)
    limit, page = paging.parse(request.args)
    results = ags.results_json(settings.current(), caller.mode, item, request.args.get("user_id"))
    shown, more = paging.slice_page(results, limit, page)
    link = paging.link_header(public_url(), limit, page, more)
    return json_response(shown, content_type=ags.RESULTS_TYPE, headers={"Link": link} if link else None)


# --- NRPS -----------------------------------------------------------------------------------

@bp.get(COURSE_PATH + "/memberships")
def memberships(context_id: str):
    """The roster as an NRPS v2 membership container; limit pages it with Link rel="next"."""
    caller = authorize_call("nrps", {nrps.SCOPE})
    stats.bump("nrps_requests")
    _check_course(context_id, caller.mode)
    limit, page = paging.parse(request.args)
    shown, more = paging.slice_page(nrps.members(caller.mode, request.args.get("role")), limit, page)
    link = paging.link_header(public_url(), limit, page, more)
    return json_response(nrps.container(public_url(), shown), content_type=nrps.MEMBERSHIP_TYPE,
                         headers={"Link": link} if link else None)
