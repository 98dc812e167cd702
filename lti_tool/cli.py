"""The `lti-tool` command line (also `flask --app lti_tool ...`)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from . import keys, registrations

platforms_cli = AppGroup("platforms", help="Register LMS platforms and their deployments.")
keys_cli = AppGroup("keys", help="The tool's signing keys.")
devlms_cli = AppGroup("devlms", help="The practice LMS (development only).")


@platforms_cli.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--auth-audience", default=None)
@click.option("--name", default="")
def platforms_add(issuer, client_id, auth_login_url, auth_token_url, key_set_url, deployment_ids, auth_audience, name):
    """Register a platform (or update the one with this issuer and client id)."""
    try:
        platform = registrations.add_platform(
            issuer=issuer, client_id=client_id, auth_login_url=auth_login_url, auth_token_url=auth_token_url,
            key_set_url=key_set_url, deployment_ids=deployment_ids, auth_audience=auth_audience, name=name,
        )
    except registrations.RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"registered {platform.name}: issuer={issuer} client_id={client_id} deployments={', '.join(deployment_ids)}")


@platforms_cli.command("list")
def platforms_list():
    """Show every platform with its deployments (pending ones wait for `activate`)."""
    rows = registrations.list_platforms()
    if not rows:
        click.echo("no platforms registered")
    for p in rows:
        click.echo(f"{p.name}\n  issuer:     {p.issuer}\n  client_id:  {p.client_id}\n  login:      {p.auth_login_url}"
                   f"\n  token:      {p.auth_token_url}\n  key set:    {p.key_set_url}")
        if p.auth_audience:
            click.echo(f"  audience:   {p.auth_audience}")
        for d in p.deployments:
            click.echo(f"  deployment: {d.deployment_id} ({d.status})")


@platforms_cli.command("activate")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", required=True)
def platforms_activate(issuer, client_id, deployment_id):
    """Activate a deployment (for example one recorded as pending by a refused launch)."""
    try:
        registrations.activate_deployment(issuer, client_id, deployment_id)
    except registrations.RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deployment {deployment_id} of {issuer} ({client_id}) is active")


@platforms_cli.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def platforms_remove(issuer, client_id):
    """Remove a platform and its deployments."""
    try:
        registrations.remove_platform(issuer, client_id)
    except registrations.RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed issuer={issuer} client_id={client_id}")


@keys_cli.command("list")
def keys_list():
    """Show the tool's keys: which one signs, which are still published, which are gone."""
    keys.signing_key()
    published = {k.kid for k in keys.published_keys()}
    for k in keys.all_keys():
        state = "signing" if k.retired_at is None else ("published (retired " + f"{k.retired_at:%Y-%m-%d %H:%M})" if k.kid in published else "expired")
        click.echo(f"{k.kid}  created {k.created_at:%Y-%m-%d %H:%M}  {state}")


@keys_cli.command("rotate")
def keys_rotate():
    """Make a new signing key; the old public key stays published for KEY_GRACE_DAYS."""
    fresh = keys.rotate()
    click.echo(f"new signing key {fresh.kid}; previous keys stay in the JWKS for {current_app.config['KEY_GRACE_DAYS']} days")


@devlms_cli.command("register")
def devlms_register():
    """Register the practice LMS (both its Moodle and Canvas modes) in this tool."""
    if not current_app.config["DEV_LMS"]:
        raise click.ClickException("DEV_LMS is off: the practice LMS is never registered in production")
    from . import devlms

    for reg in devlms.registrations(current_app.config):
        registrations.add_platform(**reg)
        click.echo(f"registered practice LMS ({reg['name']}): issuer={reg['issuer']} client_id={reg['client_id']}")


content_cli = AppGroup("content", help="Course pages in CONTENT_DIR.")


@content_cli.command("check")
def content_check():
    """Validate every page and worksheet declaration; each error names its file and line."""
    from . import content

    folder = current_app.config["CONTENT_DIR"]
    errors = content.check_content(folder)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} problem(s) in {folder}")
    pages = content.list_pages(folder)
    click.echo(f"{len(pages)} page(s) in {folder}: all valid")
    for page in pages:
        click.echo(f"  {page.name:28} {page.title}{'  [worksheet]' if page.has_worksheet else ''}")


grades_cli = AppGroup("grades", help="Grades queued for the LMS gradebooks.")


@grades_cli.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then exit.")
@click.option("--name", default=None, help="Worker name shown in `grades status` (default host:pid).")
def grades_worker(once, name):
    """Send queued grades until stopped (SIGTERM or Ctrl-C finishes the current grade first)."""
    import signal
    import threading

    from . import schema
    from .grade_worker import GradeWorker

    if problem := schema.problem():
        raise click.ClickException(f"refusing to start: {problem}")
    worker = GradeWorker(current_app._get_current_object(), name=name)
    if once:
        total = 0
        while (handled := worker.run_once()):
            total += handled
        click.echo(f"handled {total} grade(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"grade worker {worker.name}: sending queued grades (Ctrl-C to stop)")
    worker.run(stop)


@grades_cli.command("status")
@click.option("--failed", "show_failed", type=int, default=20, show_default=True, help="How many recent failures to list.")
def grades_status(show_failed):
    """Counts by state, the oldest queued grade, and recent failures with their reasons."""
    from . import grade_outbox

    summary = grade_outbox.summary()
    for state, count in summary.counts.items():
        click.echo(f"{state:11} {count}")
    if summary.oldest_queued:
        click.echo(f"oldest queued: {summary.oldest_queued:%Y-%m-%d %H:%M:%S} UTC")
    for row in grade_outbox.failures(show_failed):
        who = row.person.display_name if row.person else row.person_id
        click.echo(f"failed #{row.id} {who} in {row.activity.title or row.activity.resource_link_id} "
                   f"after {row.attempts} attempt(s): {row.last_error}")


@grades_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
def grades_retry(ids):
    """Queue failed grades again (all, or the given ids); a learner's newer grade always wins."""
    from . import grade_outbox

    count = grade_outbox.retry(list(ids) or None)
    click.echo(f"queued {count} grade(s) again")


def init_app(app: Flask) -> None:
    for group in (platforms_cli, keys_cli, devlms_cli, content_cli, grades_cli):
        app.cli.add_command(group)
    app.cli.add_command(admin_urls)


@click.command("urls")
def admin_urls():
    """Print the URLs an LMS admin needs to register the tool."""
    base = current_app.config["TOOL_BASE_URL"]
    for label, path in (("Register by URL (dynamic reg.)", "/lti/register"),
                        ("Login (OIDC initiation) URL", "/lti/login"), ("Launch / redirect URL", "/lti/launch"),
                        ("Public keyset (JWKS) URL", "/.well-known/jwks.json")):
        click.echo(f"  {label:30} {base}{path}")
    if current_app.config["DEV_LMS"]:
        click.echo(f"  {'Practice LMS':30} {base}/dev/lms")


def main() -> None:
    from . import create_cli_app

    FlaskGroup(create_app=create_cli_app, add_default_commands=True, set_debug_flag=False, load_dotenv=False)(prog_name="lti-tool")
