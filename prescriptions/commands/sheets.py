"""`sheet-layout` and `read-sheets`: the log sheet's answer areas, and returned sheets read back."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from pdf.sheetlayout import week_layouts
from sheets import SheetError, SheetRead, read_file

from ..domain.vocab import Paper
from ..exercises.queries import fetch_catalogue
from ..extensions import db
from ..mapping.handouts import handout_options, handout_snapshot
from ..mapping.sheets import server_key, verify
from ..models import Clinic
from ..plans.queries import fetch_plan


def _week_of(plan_id: int, week: int, paper: str | None, large: bool | None):  # noqa: ANN202
    plan = fetch_plan(None, plan_id)
    if plan is None:
        raise click.ClickException(f"No plan has the id {plan_id}.")
    clinic = db.session.get(Clinic, plan.clinic_id)
    options = handout_options(plan, clinic, paper=paper, large_print=large)
    snap = handout_snapshot(plan, clinic, fetch_catalogue(plan.clinic_id))
    if not 1 <= week <= len(snap.weeks):
        raise click.ClickException(f"WEEK must be 1 to {len(snap.weeks)}, not {week}.")
    return plan, options, snap.weeks[week - 1]


@click.command("sheet-layout")
@click.argument("plan_id", type=int)
@click.argument("week", type=int)
@click.option("--paper", type=click.Choice([p.value for p in Paper]), help="Default: the plan's.")
@click.option("--large-print", is_flag=True, default=None, help="The large-print sheet.")
@with_appcontext
def sheet_layout_command(
    plan_id: int, week: int, paper: str | None, large_print: bool | None
) -> None:
    """Print, as JSON, the page size and every answer area of a week's log sheet."""
    _, options, plan_week = _week_of(plan_id, week, paper, large_print)
    pages = week_layouts(options.paper, options.large_print, plan_week.sessions_per_day,
                         plan_week.starts)  # fmt: skip
    out = pages[0].as_json()
    out["fields"] = [f for page in pages for f in page.as_json()["fields"]]
    click.echo(json.dumps(out))


def _sheet_json(read: SheetRead, plan_id: int, week: int, revision: int) -> dict[str, object]:
    days = [
        {
            "date": d.date.isoformat() if d.date else None,
            "sessions": list(d.sessions),
            "pain": d.pain,
            "urgency": d.urgency,
            "leaks": d.leaks,
            "unsure": list(d.unsure),
            "confidence": d.confidence,
        }
        for d in read.days
    ]
    crops = {}
    for key, png in read.crops().items():
        day, field = key.split("/")
        when = read.layout.day_date(int(day))
        name = f"{when.isoformat() if when else 'day' + day}/{field}"
        crops[name] = "data:image/png;base64," + base64.b64encode(png).decode()
    return {"plan": plan_id, "week": week, "revision": revision, "page": read.spec.page,
            "days": days, "crops": crops}  # fmt: skip


def _check(read: SheetRead) -> tuple[int, int, int]:
    """The plan, week and revision a read sheet belongs to, or a SheetError saying why not."""
    sheet = verify(server_key(), read.signed)
    if sheet is None:
        raise SheetError(
            "This sheet's code is not signed by a clinic on this server "
            "(a foreign or altered sheet)."
        )
    plan = fetch_plan(None, sheet.plan_id)
    if plan is None or plan.clinic_id != sheet.clinic_id:
        raise SheetError(f"This is a sheet of plan {sheet.plan_id}, which no longer exists.")
    if sheet.week:
        starts = plan.start_date.toordinal() + 7 * (sheet.week - 1)
        if read.spec.starts is None or read.spec.starts.toordinal() != starts:
            raise SheetError("The sheet's dates do not match its plan: it cannot be read safely.")
    return plan.id, sheet.week, plan.revision


@click.command("read-sheets")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sheet, per line.")
@with_appcontext
def read_sheets_command(files: tuple[str, ...], as_json: bool) -> None:
    """Read photos, scans or PDF pages of returned log sheets."""
    failed = 0
    for name in files:
        try:
            pages = read_file(Path(name).read_bytes())
        except SheetError as err:
            click.echo(f"{name}: {err}", err=True)
            failed += 1
            continue
        for number, page in enumerate(pages, 1):
            where = f"{name}" + (f", page {number}" if len(pages) > 1 else "")
            try:
                if isinstance(page, SheetError):
                    raise page
                plan_id, week, revision = _check(page)
            except SheetError as err:
                click.echo(f"{where}: {err}", err=True)
                failed += 1
                continue
            out = _sheet_json(page, plan_id, week, revision)
            if as_json:
                click.echo(json.dumps(out))
                continue
            label = f"week {week}" if week else "the spare sheet"
            click.echo(f"{where}: plan {plan_id}, {label}, revision {revision}")
            for d in out["days"]:
                ticks = "".join("x" if s else "." for s in d["sessions"])
                unsure = f"  unsure: {', '.join(d['unsure'])}" if d["unsure"] else ""
                click.echo(f"  {d['date'] or '(no date)'}  sessions {ticks}  pain {d['pain']}  "
                           f"urgency {d['urgency']}  leaks {d['leaks']}{unsure}")  # fmt: skip
    if failed:
        raise SystemExit(1)


commands = [sheet_layout_command, read_sheets_command]
