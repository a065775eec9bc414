"""The `flask --app app ...` commands."""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from ..accounts.operations import create_clinic, create_user, set_password
from ..accounts.queries import fetch_clinic_by_name, fetch_clinics, fetch_user_by_email
from ..audit import SYSTEM, audit_key, checkpoint_to_json, record_event, verify_all
from ..auth.passwords import password_problem
from ..database import count_rows
from ..domain.vocab import Paper, Role
from ..exercises.queries import fetch_catalogue
from ..extensions import db
from ..mapping.handouts import handout_options, render_plan_handout
from ..models import AuditEvent, Clinic
from ..plans.queries import fetch_plan
from .sheets import commands as sheet_commands


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


@click.command("set-password")
@click.option("--email", required=True)
@with_appcontext
def set_password_command(email: str) -> None:
    """Set an account's password (prompt or FLOORPLAN_NEW_PASSWORD); its sessions end."""
    user = fetch_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email {email}.")
    password = _new_password(user.email, user.name)
    set_password(user, password, SYSTEM, action="auth.password_set")
    db.session.commit()
    click.echo(f"New password set for {user.email}; every session of the account has ended.")


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
@click.option(
    "--since-checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint file (from a backup or an earlier run): also report deleted newest rows.",
)
@with_appcontext
def audit_verify_command(checkpoint_file: str | None) -> None:
    """Check every audit chain; print the checkpoint to keep, or exit 1 naming the first break."""
    from .backup import BackupError, read_checkpoint_file

    checkpoint = None
    if checkpoint_file:
        try:
            checkpoint = read_checkpoint_file(checkpoint_file)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
    broken, heads = verify_all(audit_key(), checkpoint)
    if broken is not None:
        click.echo(f"Audit chain broken: {broken.describe()}.", err=True)
        sys.exit(1)
    events = count_rows(AuditEvent)
    against = f", and nothing before {checkpoint_file} is missing" if checkpoint_file else ""
    click.echo(f"Audit chain intact ({events} events in {len(heads)} chains{against}).")
    click.echo("Checkpoint (keep it elsewhere; verify later with --since-checkpoint FILE):")
    click.echo(json.dumps(checkpoint_to_json(heads, datetime.now(UTC).isoformat())))


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
    exercises = fetch_catalogue(plan.clinic_id)
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
    from .backup import CHECKPOINT_SUFFIX, BackupError, write_backup

    try:
        summary = write_backup(file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    record_event(SYSTEM, "backup.create", None, summary.describe())
    db.session.commit()
    click.echo(f"Backed up {summary.describe()}.")
    click.echo(
        f"Its audit checkpoint is in {file}{CHECKPOINT_SUFFIX}: keep a copy away from this "
        "server (`flask --app app audit-verify --since-checkpoint FILE` checks against it)."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--accept-broken-chain",
    is_flag=True,
    help="Restore even if the file's signature or audit chain does not verify (recorded).",
)
@with_appcontext
def restore_command(file: str, accept_broken_chain: bool) -> None:
    """Restore a backup FILE into this database, which must be empty; every row is checked."""
    from .backup import BackupError, restore_backup

    try:
        summary = restore_backup(file, accept_broken_chain=accept_broken_chain)
    except BackupError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was restored.") from None
    if summary.unverified:
        detail = f"{summary.describe()}; restored with --accept-broken-chain: {summary.unverified}"
        record_event(SYSTEM, "backup.restore_broken_chain", None, detail)
    else:
        record_event(SYSTEM, "backup.restore", None, summary.describe())
    db.session.commit()
    click.echo(f"Restored {summary.describe()}.")
    if summary.unverified:
        click.echo(
            f"Warning: restored unverified ({summary.unverified}); this is recorded.", err=True
        )


commands = [
    create_user_command,
    set_password_command,
    seed_demo_command,
    audit_verify_command,
    handout_command,
    backup_command,
    restore_command,
    *sheet_commands,
]
