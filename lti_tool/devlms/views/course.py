"""The course page, and the start of a launch (OIDC third-party login initiation)."""
from __future__ import annotations

from flask import current_app, render_template, request, url_for

from .. import activities, hints, modes, roster, settings, stats
from ..registration import registrations
from . import bp
from .common import autosubmit, html_error

METHODS = ("get", "post")


def _choices(args) -> dict[str, str]:
    """mode, method and storage from the query, each defaulted to the first valid choice; client when the
    launches use a client a tool registered dynamically (its mode then is the client's)."""
    mode = args.get("mode") if args.get("mode") in modes.MODES else "moodle"
    method = args.get("method") if args.get("method") in METHODS else "get"
    storage = args.get("storage") if args.get("storage") in hints.STORAGE_CHOICES else "none"
    choices = {"mode": mode, "method": method, "storage": storage}
    client = _registered_mode(args.get("client"))
    if client is not None:
        choices.update(mode=client.name, client=client.client_id)
    return choices


def _registered_mode(client_id: str | None) -> modes.Mode | None:
    """The mode of a dynamically registered client, or None."""
    mode = modes.by_client_id(client_id) if client_id else None
    return mode if mode is not None and mode.registered is not None else None


def _frame_src(args, choices: dict) -> tuple[str | None, str | None]:
    """The iframe's src (the LMS's own launch start) and a caption, when a launch was chosen."""
    person = roster.person(args.get("person", ""))
    if person is None:
        return None, None
    # ?locale=es-MX on the course page is passed on to the launch (the person's own locale otherwise).
    extra = {"locale": args["locale"]} if hints.valid_locale(args.get("locale")) else {}
    if args.get("message") == hints.DEEP_LINKING and person.is_instructor:
        src = url_for(".launch_start", person=person.user_id, message=hints.DEEP_LINKING, **choices, **extra)
        return src, f"Adding content with the tool, as {person.display}"
    activity = activities.find(args.get("link"))
    if activity is None:
        return None, None
    src = url_for(".launch_start", person=person.user_id, link=activity.resource_link_id, **choices, **extra)
    return src, f"{activity.title}, as {person.display}"


@bp.get("/")
def course_page():
    """The course: roster, one launch button per person and activity, the tool in an iframe."""
    choices = _choices(request.args)
    frame_src, caption = _frame_src(request.args, choices)
    return render_template(
        "devlms/course.html", course=roster.COURSE, people=roster.PEOPLE, activities=activities.all_activities(),
        instructors=[p for p in roster.PEOPLE if p.is_instructor], choices=choices, modes=modes.MODES.values(),
        methods=METHODS, storage_choices=hints.STORAGE_CHOICES, frame_src=frame_src, caption=caption,
        deep_linking=hints.DEEP_LINKING, registrations=registrations(current_app.config),
        client=_registered_mode(choices.get("client")),
    )


def _launch_target(args) -> tuple[roster.Person | None, roster.Activity | None, bool]:
    """(person, activity, ok) for a launch start: a resource link, or deep linking by an instructor."""
    person = roster.person(args.get("person", ""))
    if args.get("message") == hints.DEEP_LINKING:
        return person, None, person is not None and person.is_instructor
    activity = activities.find(args.get("link"))
    return person, activity, person is not None and activity is not None


@bp.get("/launch")
def launch_start():
    """Third-party login initiation: a form that sends the browser to the tool's /lti/login."""
    person, activity, ok = _launch_target(request.args)
    if request.args.get("client"):  # a client a tool registered by dynamic registration
        mode = _registered_mode(request.args["client"])
    else:
        mode = modes.by_name(request.args.get("mode", "moodle"))
    method = request.args.get("method", "get")
    storage = request.args.get("storage", "none")
    locale = request.args.get("locale") or None  # optional: launch_presentation.locale instead of the person's
    if not ok or mode is None or method not in METHODS or storage not in hints.STORAGE_CHOICES:
        return html_error(400, "Cannot start this launch",
                          "person, link (or message=deeplink for an instructor), mode (moodle|canvas) or client "
                          "(a dynamically registered client id), method (get|post) or storage is missing or unknown.")
    if locale is not None and not hints.valid_locale(locale):
        return html_error(400, "Cannot start this launch", "locale must be a language tag such as es or es-MX.")
    conf = settings.current()
    fields = {
        "iss": mode.issuer(conf),
        "login_hint": mode.login_hint(person),
        "target_link_uri": mode.tool_launch_url(conf),
        "lti_message_hint": hints.issue(person, activity, mode, storage, locale),
        "client_id": mode.client_id,
        "lti_deployment_id": mode.deployment_id(conf),
    }
    if storage != "none":
        fields["lti_storage_target"] = "_parent"
    stats.bump("launch_starts")
    what = activity.title if activity else "the tool's content picker"
    return autosubmit(mode.tool_login_url(conf), method, fields, f"Opening {what}", f"{person.display} opens {what} ({mode.title}).")
