"""Command-line commands: `flask --app backoffice create-user | demo-data | reassess-candidacies |
import-history | settings | audit verify`."""

from __future__ import annotations

from typing import cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Table

from backoffice.audit import chain
from backoffice.audit.models import AuditEvent
from backoffice.auth import services as accounts
from backoffice.auth.sessions import auth_policy
from backoffice.config import SETTINGS
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors
from backoffice.core.extensions import db
from backoffice.core.permissions import ALL_ROLES, Role
from backoffice.core.timefmt import format_datetime, practice_today


@click.command("create-user")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as shown in the app.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([role.value for role in ALL_ROLES]),
              help="A role; repeat for several.")
@click.option("--email", default=None)
@click.option("--temporary", is_flag=True,
              help="Generate a temporary password (printed) that must be changed at sign-in.")
def create_user_command(username: str, full_name: str, roles: tuple[str, ...],
                        email: str | None, temporary: bool) -> None:
    """Create a staff account (the first admin, for instance)."""
    password = None if temporary else click.prompt("Password", hide_input=True,
                                                   confirmation_prompt=True)
    data = accounts.AccountData(username, full_name, email, frozenset(Role(r) for r in roles))
    try:
        user, password = accounts.create_user(data, by=Actor.system("cli:create-user"),
                                              policy=auth_policy(), now=utcnow(),
                                              password=password)
    except FieldErrors as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created {user.username} ({', '.join(roles)}).")
    if temporary:
        click.echo(f"Temporary password: {password}")


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has accounts.")
@click.option("--patients", "patient_count", default=300, show_default=True)
def demo_data_command(if_empty: bool, patient_count: int) -> None:
    """Load the synthetic demo practice. Safe to run again: nothing is duplicated."""
    from backoffice import demo

    if current_app.config["BACKOFFICE_ENV"] == "production":
        raise click.ClickException("Demo data is never loaded into a production database.")
    if if_empty and demo.has_accounts():
        click.echo("The database already has accounts; demo data not loaded.")
    else:
        summary = demo.load(patient_count=patient_count, policy=auth_policy(), now=utcnow())
        click.echo(summary)
    click.echo(demo.logins_text())


@click.command("reassess-candidacies")
def reassess_candidacies_command() -> None:
    """Work out every patient's candidacies again (after records were loaded in bulk)."""
    from backoffice.procedures import candidacy, stored_candidacies

    marked = candidacy.mark_all_candidacies_stale()
    done = stored_candidacies.reassess_stale_candidacies(today=practice_today(utcnow())).patients
    click.echo(f"Candidacies worked out again for {done:,} of {marked:,} patients with appointments.")


@click.command("import-history")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check every row and list the problems; write nothing.")
def import_history_command(path: str, dry_run: bool) -> None:
    """Import procedures done before the practice used the app (or elsewhere) from a CSV file: every
    row is checked first, then all are written in one transaction, or none (README: the columns)."""
    from backoffice.history.imports import import_history

    now = utcnow()
    with open(path, "rb") as file:
        result = import_history(file.read(), dry_run=dry_run, by=Actor.system("cli:import-history"), now=now,
                                today=practice_today(now))
    check = result.check
    for problem in check.problems:
        click.echo(str(problem))
    if check.problems:
        rows = len({problem.row for problem in check.problems if problem.row is not None and problem.row > 1})
        where = f" in {rows} of {check.rows} rows" if rows else ""
        click.echo(f"{len(check.problems)} problem{'s' if len(check.problems) != 1 else ''}{where}: nothing written.")
        raise click.exceptions.Exit(1)
    if dry_run:
        click.echo(f"{check.rows} rows checked: {len(check.records)} procedures for {len(check.patients)} "
                   "patients are ready to import. Nothing written (dry run).")
        return
    click.echo(f"Imported {result.written} procedures done elsewhere for {len(check.patients)} patients; "
               "their candidacies are worked out again on the next visit to the candidates list.")


@click.command("settings")
def settings_command() -> None:
    """Print the table of settings (environment variables) as Markdown."""
    click.echo("| Variable | Default | What it does |\n|---|---|---|")
    for setting in SETTINGS:
        default = "" if setting.default is None else f"`{setting.default}`"
        click.echo(f"| `{setting.env}` | {default} | {setting.description} |")


audit_group = AppGroup("audit", help="The audit trail.")


@audit_group.command("verify")
@click.option("--anchor", metavar="ID:HASH", default=None,
              help="The last row and hash an earlier run printed: it must still have that hash.")
def audit_verify_command(anchor: str | None) -> None:
    """Walk the audit trail's hash chain in id order and name the first row that does not match."""
    recorded = None
    if anchor is not None:
        row_id, _, row_hash = anchor.partition(":")
        if not row_id.isascii() or not row_id.isdigit() or len(row_hash) != 64:
            raise click.BadParameter("give the row id and its 64-character hash: 1234:ab12...", param_hint="--anchor")
        recorded = (int(row_id), row_hash)
    with db.engine.connect() as connection:
        check = chain.verify(connection, cast(Table, AuditEvent.__table__), anchor=recorded)
    if check.broken is None:
        click.echo(f"{check.checked:,} audit rows checked: chain intact.")
        if check.last_id is not None:
            click.echo(f"Last row {check.last_id}, hash {check.last_hash}: keep it, and a later run with "
                       f"--anchor {check.last_id}:{check.last_hash} also checks that nothing up to it was rewritten.")
        return
    broken = check.broken
    at = (f" ({format_datetime(broken.at, current_app.config['PRACTICE_TIMEZONE'])})"
          if broken.at is not None else "")
    click.echo(f"Audit row {broken.id}{at} does not match the chain: {broken.reason}. "
               f"{check.checked:,} audit rows checked.")
    raise click.exceptions.Exit(1)


def init_app(app: Flask) -> None:
    for command in (create_user_command, demo_data_command, reassess_candidacies_command, import_history_command,
                    settings_command, audit_group):
        app.cli.add_command(command)
