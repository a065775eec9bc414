"""The `flask --app app ...` commands."""

from __future__ import annotations

import os
import secrets
import sys

import click
from flask.cli import with_appcontext

from ..accounts.operations import create_clinic, create_user
from ..accounts.queries import fetch_clinic_by_name, fetch_clinics, fetch_user_by_email
from ..audit import SYSTEM, audit_key, record_event, verify_chain
from ..auth.passwords import password_problem
from ..database import count_rows
from ..domain.vocab import Paper, Role
from ..exercises.queries import fetch_clinic_exercises
from ..extensions import db
from ..mapping.handouts import handout_options, render_plan_handout
from ..mapping.plans import catalogue_of
from ..models import AuditEvent, Clinic
from ..plans.queries import fetch_plan


def _new_password(email: str, name: str) -> str:
    password = os.environ.get("FLOORPLAN_NEW_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise click.ClickException(f"Password refused: {problem}")
    return password


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--clinic", "clinic_name", help="Clinic name; created if no clinic has it.")
@with_appcontext
def create_user_command(email: str, name: str, role: str, clinic_name: str | None) -> None:
    """Create an account (password from a prompt or FLOORPLAN_NEW_PASSWORD)."""
    if fetch_user_by_email(email):
        raise click.ClickException(f"An account with the email {email} already exists.")
    if clinic_name:
        clinic = fetch_clinic_by_name(clinic_name) or create_clinic(clinic_name)
    else:
        clinics = fetch_clinics()
        if len(clinics) != 1:
            names = ", ".join(repr(c.name) for c in clinics) or "none yet"
            raise click.ClickException(f"Name the clinic with --clinic (clinics: {names}).")
        clinic = clinics[0]
    password = _new_password(email, name)
    user = create_user(clinic, email=email, name=name, role=role, password=password)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} in {clinic.name}.")


@click.command("seed-demo")
@click.option("--patients", default=12, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option(
    "--password", help="The demo clinician's and administrator's password (random when omitted)."
)
@with_appcontext
def seed_demo_command(patients: int, password: str | None) -> None:
    """Create a demo clinic with a clinician, an administrator, patients, plans and logs."""
    from .demo import seed_demo

    password = password or secrets.token_urlsafe(12)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(f"Password refused: {problem}")
    result = seed_demo(patients, password)
    db.session.commit()
    click.echo(f"Demo clinic ready with {result.patients} new patients.")
    for role, email, created in (
        ("clinician", result.email, result.created_user),
        ("administrator", result.admin_email, result.created_admin),
    ):
        if created:
            click.echo(f"The {role} signs in as {email} with the password {result.password}")
        else:
            click.echo(f"The {role} signs in as {email} (its password is unchanged).")


@click.command("audit-verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit chain; exit 1 naming the first broken link."""
    broken = verify_chain(audit_key())
    if broken is not None:
        click.echo(f"Audit chain broken at event {broken.event_id}: {broken.reason}.", err=True)
        sys.exit(1)
    click.echo(f"Audit chain intact ({count_rows(AuditEvent)} events).")


@click.command("handout")
@click.argument("plan_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--paper", type=click.Choice([p.value for p in Paper]), help="Default: the plan's.")
@click.option("--large-print", is_flag=True, default=None, help="Body text at 16 pt or more.")
@click.option("--log-sheets-only", is_flag=True)
@with_appcontext
def handout_command(
    plan_id: int, output: str, paper: str | None, large_print: bool | None, log_sheets_only: bool
) -> None:
    """Write a plan's handout to a PDF file."""
    plan = fetch_plan(None, plan_id)
    if plan is None:
        raise click.ClickException(f"No plan has the id {plan_id}.")
    clinic = db.session.get(Clinic, plan.clinic_id)
    options = handout_options(
        plan, clinic, paper=paper, large_print=large_print, log_sheets_only=log_sheets_only
    )
    exercises = catalogue_of(fetch_clinic_exercises(plan.clinic_id))
    pdf = render_plan_handout(plan, clinic, exercises, options)
    with open(output, "wb") as file:
        file.write(pdf)
    record_event(SYSTEM, "plan.print", plan, output, clinic_id=plan.clinic_id)
    db.session.commit()
    click.echo(f"Wrote {output} ({len(pdf):,} bytes).")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(file: str) -> None:
    """Back up the whole database to FILE (.json, .json.gz, or .sqlite on SQLite)."""
    from .backup import BackupError, write_backup

    try:
        summary = write_backup(file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    record_event(SYSTEM, "backup.create", None, summary.describe())
    db.session.commit()
    click.echo(f"Backed up {summary.describe()}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(file: str) -> None:
    """Restore a backup FILE into this database, which must be empty."""
    from .backup import BackupError, restore_backup

    try:
        summary = restore_backup(file)
    except BackupError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was restored.") from None
    broken = verify_chain(audit_key())
    record_event(SYSTEM, "backup.restore", None, summary.describe())
    db.session.commit()
    click.echo(f"Restored {summary.describe()}.")
    if broken is not None:
        click.echo(
            f"Warning: the restored audit chain does not verify at event {broken.event_id} "
            f"({broken.reason}). Is FLOORPLAN_SECRET_KEY (or FLOORPLAN_AUDIT_KEY) the same as "
            "on the server that made the backup?",
            err=True,
        )


commands = [
    create_user_command,
    seed_demo_command,
    audit_verify_command,
    handout_command,
    backup_command,
    restore_command,
]
