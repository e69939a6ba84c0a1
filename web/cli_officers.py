"""Flask CLI commands for officer accounts of the console: create (password prompted, never echoed), disable."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from graph.officers import ROLES
from profiles.errors import Conflict, NotFound, Rejected
from web.pages import sessions


@click.group("officer", help="Officer accounts of the one-stop window console.")
def officer_group() -> None:
    pass


@officer_group.command("create", help="Create an officer account; the password is asked for twice, not echoed.")
@click.option("--username", required=True)
@click.option("--name", required=True, help="the officer's name as citizens see it in their access log")
@click.option("--role", type=click.Choice(ROLES), default="officer", show_default=True)
@click.option("--department", required=True, help="e.g. 禅城区行政服务中心")
@click.password_option(help="at least 12 characters; prompted when not given")
@with_appcontext
def officer_create(username: str, name: str, role: str, department: str, password: str) -> None:
    try:
        officer = current_app.extensions["lifecycle"].officers.create(username, name, role, department, password)
    except (Rejected, Conflict) as exc:
        raise click.ClickException(f"{exc.field}: {exc.reason}") from exc
    click.echo(f"created {officer.role} {officer.username} ({officer.name}, {officer.department})")


@officer_group.command("disable", help="Stop an officer signing in and end the sessions they have open (their records "
                                       "in the access log stay).")
@click.argument("username")
@with_appcontext
def officer_disable(username: str) -> None:
    try:
        current_app.extensions["lifecycle"].officers.set_active(username.strip().lower(), False)
    except NotFound as exc:
        raise click.ClickException(f"no officer {username}") from exc
    ended = sessions.end_officer_sessions(username.strip().lower())
    click.echo(f"disabled {username}; {ended} open session{'s' if ended != 1 else ''} ended")


def init_app(app: Flask) -> None:
    app.cli.add_command(officer_group)
