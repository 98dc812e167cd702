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


def init_app(app: Flask) -> None:
    for group in (platforms_cli, keys_cli, devlms_cli):
        app.cli.add_command(group)
    app.cli.add_command(admin_urls)


@click.command("urls")
def admin_urls():
    """Print the URLs an LMS admin needs to register the tool."""
    base = current_app.config["TOOL_BASE_URL"]
    for label, path in (("Login (OIDC initiation) URL", "/lti/login"), ("Launch / redirect URL", "/lti/launch"),
                        ("Public keyset (JWKS) URL", "/.well-known/jwks.json")):
        click.echo(f"  {label:30} {base}{path}")
    if current_app.config["DEV_LMS"]:
        click.echo(f"  {'Practice LMS':30} {base}/dev/lms")


def main() -> None:
    from . import create_app

    FlaskGroup(create_app=create_app, add_default_commands=True, set_debug_flag=False, load_dotenv=False)(prog_name="lti-tool")
