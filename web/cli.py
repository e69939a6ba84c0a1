"""Flask CLI commands for operators: `flask --app wsgi graph migrate|status`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from graph.schema import MIGRATIONS, MigrationError, applied_versions, migrate


def init_app(app: Flask) -> None:
    from web import cli_data

    app.cli.add_command(graph_group)
    cli_data.init_app(app)


graph_group = AppGroup("graph", help="The Neo4j schema.")  # AppGroup: each command runs in an app context


@graph_group.command("migrate", help="Apply schema migrations not yet recorded in the graph (safe to repeat).")
def migrate_command() -> None:
    services = current_app.extensions["lifecycle"]
    try:
        applied = migrate(services.driver, services.settings.neo4j_database)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    if applied:
        click.echo(f"applied migrations {', '.join(map(str, applied))}")
    else:
        click.echo(f"schema up to date (version {MIGRATIONS[-1].version})")


@graph_group.command("status", help="List migrations and whether each is applied.")
def status_command() -> None:
    services = current_app.extensions["lifecycle"]
    done = applied_versions(services.driver, services.settings.neo4j_database)
    for m in MIGRATIONS:
        click.echo(f"{m.version:>4}  {'applied' if m.version in done else 'pending':8} {m.name}")
