"""Programmes: the timeline of blocks, goal and length, stopping, planning the next block."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm.exc import StaleDataError

from ..assessments.queries import fetch_assessments
from ..domain.blocks import BlockProposal, patient_reason, propose_next_block
from ..domain.outcomes import Figure, summary_figures
from ..domain.progression import BUILTIN_TEMPLATES
from ..domain.timeline import next_block_offered_from
from ..domain.vocab import PlanStatus, ProgrammeStatus
from ..exercises.queries import fetch_catalogue
from ..exports.tables import csv_cell
from ..extensions import db
from ..logs.queries import fetch_logs
from ..mapping.plans import assessment_facts, plan_items
from ..mapping.programmes import block_plans, block_template_code, logged_days, programme_timeline
from ..models import Plan, Programme
from ..plans.operations import create_next_block
from ..programmes.operations import stop_programme, update_programme
from ..web import acting, clinic_id
from ..web.errors import LOST_RACE
from ..web.once import Saved, once_form, submit_once
from .forms import NextBlockForm, OutcomesForm, ProgrammeForm, StopForm
from .queries import (
    fetch_block_adherence,
    fetch_block_plans,
    fetch_iciq_pairs,
    fetch_leak_pairs,
    fetch_lineage_log_sums,
    fetch_programme,
    fetch_programme_templates,
    fetch_status_counts,
)

bp = Blueprint("programmes", __name__)


def _programme_or_404(programme_id: int) -> Programme:
    return fetch_programme(clinic_id(), programme_id) or abort(404)


@dataclass(frozen=True)
class NextBlock:
    """What "plan the next block" would do now, or why it can't."""

    last: Plan | None
    number: int | None
    proposal: BlockProposal | None
    refusal: str = ""


def _next_block(programme: Programme, plans: list[Plan]) -> NextBlock:
    """The proposal for the programme's next block from its last block's logs."""
    standing = block_plans(programme, plans)
    if programme.status != ProgrammeStatus.RUNNING:
        return NextBlock(None, None, None, f"The programme is {programme.status}.")
    if not standing:
        return NextBlock(None, None, None, "The programme has no block yet.")
    number = max(standing)
    last = standing[number]
    if number >= programme.block_count:
        return NextBlock(last, None, None, f"All {programme.block_count} blocks are planned.")
    if last.status not in (PlanStatus.ISSUED, PlanStatus.COMPLETED):
        return NextBlock(
            last, None, None, f"Block {number} is {last.status}: issue it before the next one."
        )
    assessments = fetch_assessments(clinic_id(), programme.patient_id)
    opens = next_block_offered_from(
        last.start_date, last.end_date, [a.assessed_on for a in assessments], date.today()
    )
    if opens is not None:
        return NextBlock(
            last,
            number + 1,  # the block it will be: a form posted early is refused, not stale
            None,
            f"Block {number + 1} is offered from {opens.isoformat()}, block {number}'s last "
            "week, or once the patient is reassessed: the proposal needs the days logged by then.",
        )
    # a reassessment is one made since the last block started (CLINICAL.md: use it if present)
    reassessment = next((a for a in assessments if a.assessed_on >= last.start_date), None)
    proposal = propose_next_block(
        block_template_code(programme, last.approach),
        last.approach,
        number + 1,
        plan_items(last.items),
        logged_days(last, fetch_logs(clinic_id(), last.id)),
        assessment_facts(reassessment),
    )
    return NextBlock(last, number + 1, proposal)


def _page(
    programme: Programme,
    *,
    form: ProgrammeForm | None = None,
    next_form: NextBlockForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    plans = fetch_block_plans(clinic_id(), programme.id)
    standing = block_plans(programme, plans)
    sums = fetch_lineage_log_sums(clinic_id(), programme.patient_id)
    dates = [a.assessed_on for a in fetch_assessments(clinic_id(), programme.patient_id)]
    timeline = programme_timeline(programme, plans, sums, dates, date.today())
    upcoming = _next_block(programme, plans)
    if form is None:
        form = ProgrammeForm(obj=programme, planned=max(standing, default=1))
        form.version.data = str(programme.version)
    if next_form is None:
        next_form = NextBlockForm()
        next_form.block.data = str(upcoming.number or "")
        if upcoming.last is not None:
            next_form.start_date.data = upcoming.last.end_date + timedelta(days=1)
    return render_template(
        "programmes/show.html",
        programme=programme,
        timeline=timeline,
        standing=standing,
        upcoming=upcoming,
        form=form,
        next_form=next_form,
        stop_form=StopForm(),
        names={code: e.name for code, e in fetch_catalogue(clinic_id()).items()},
    ), status


@bp.get("/programmes/<int:programme_id>")
@login_required
def show(programme_id: int) -> ResponseReturnValue:
    """A programme: its blocks, reviews, the week today, and what the next block would be."""
    return _page(_programme_or_404(programme_id))


@bp.post("/programmes/<int:programme_id>")
@login_required
def edit(programme_id: int) -> ResponseReturnValue:
    """Change the goal or the number of blocks; a stale form is refused with the current one."""
    programme = _programme_or_404(programme_id)
    planned = max(block_plans(programme, fetch_block_plans(clinic_id(), programme.id)), default=1)
    form = ProgrammeForm(planned=planned)
    if not form.validate_on_submit():
        return _page(programme, form=form, status=400)
    if form.version_number() != programme.version:
        flash(
            "Someone changed this programme since you opened it: here it is now. "
            "Make your change again if it is still needed.",
            "error",
        )
        return _page(_programme_or_404(programme_id), status=409)
    try:
        update_programme(programme, acting(), **form.values())
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(LOST_RACE, "error")
        return _page(_programme_or_404(programme_id), status=409)
    flash("Programme saved.", "success")
    return redirect(url_for("programmes.show", programme_id=programme.id))


@bp.post("/programmes/<int:programme_id>/stop")
@login_required
def stop(programme_id: int) -> ResponseReturnValue:
    """Stop a running programme early, with a reason; it stays on record."""
    programme = _programme_or_404(programme_id)
    here = url_for("programmes.show", programme_id=programme.id)
    if programme.status != ProgrammeStatus.RUNNING:
        flash(f"The programme is already {programme.status}. Nothing else changed.", "info")
        return redirect(here)
    form = StopForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors) or "Say why the programme stops.", "error")
        return redirect(here + "#stop")
    stop_programme(programme, form.reason.data, acting(), on=date.today())
    db.session.commit()
    flash("Programme stopped. It stays on the patient's record.", "success")
    return redirect(here)


@bp.post("/programmes/<int:programme_id>/next-block")
@login_required
def next_block(programme_id: int) -> ResponseReturnValue:
    """Make a draft of the next block from the proposal; the editor shows each reason."""
    programme = _programme_or_404(programme_id)
    form = once_form(NextBlockForm)
    upcoming = _next_block(programme, fetch_block_plans(clinic_id(), programme.id))
    here = url_for("programmes.show", programme_id=programme.id)
    if form.is_submitted() and form.block.data != str(upcoming.number or ""):
        # a stale tab: the block it offered was planned (or the programme changed) meanwhile
        flash(
            "This page was out of date: the programme changed since it was opened. Here it is now.",
            "info",
        )
        return redirect(here)
    if not form.validate_on_submit():
        return _page(programme, next_form=form, status=400)
    proposal, last = upcoming.proposal, upcoming.last
    if proposal is None or last is None or upcoming.number is None:
        flash(upcoming.refusal, "error")
        return redirect(here)
    number = upcoming.number
    reasons = {d.exercise: " ".join(d.reasons) for d in proposal.decisions}
    for_patient = {d.exercise: patient_reason(d, proposal.evidence) for d in proposal.decisions}

    def save() -> Saved:
        draft = create_next_block(
            programme,
            last,
            proposal.items,
            reasons,
            acting(),
            block=number,
            start=form.start_date.data,
            patient_reasons=for_patient,
        )
        return (
            url_for("plans.edit", plan_id=draft.id),
            f"Block {number} is a draft, proposed from block {number - 1}. "
            "Each change says why; edit anything, then save.",
        )

    try:
        return submit_once(form, save)
    except StaleDataError:
        db.session.rollback()
        flash(LOST_RACE, "error")
        return redirect(here)


def _outcomes() -> tuple[OutcomesForm, list[Figure], list[Figure], str, bool]:
    """The filters and the clinic's figures for them; bad filters give no figures."""
    templates = [
        (code, BUILTIN_TEMPLATES[code].name if code in BUILTIN_TEMPLATES else "A clinic template")
        for code in fetch_programme_templates(clinic_id())
    ]
    form = OutcomesForm(request.args, meta={"csrf": False}, templates=templates)
    if request.args and not form.validate():
        return form, [], [], "", False
    first, last, template = form.period(date.today())
    form.fill_defaults(date.today())
    label = dict(templates).get(template, "any template")
    described = f"Programmes started {first.isoformat()} to {last.isoformat()}, {label}"
    figures, adherence = summary_figures(
        fetch_status_counts(clinic_id(), first, last, template),
        fetch_block_adherence(clinic_id(), first, last, template),
        fetch_leak_pairs(clinic_id(), first, last, template),
        fetch_iciq_pairs(clinic_id(), first, last, template),
    )
    return form, figures, adherence, described, True


@bp.get("/outcomes")
@login_required
def outcomes() -> ResponseReturnValue:
    """The clinic's outcomes over a period and template; small counts suppressed."""
    form, figures, adherence, described, ok = _outcomes()
    return render_template(
        "programmes/outcomes.html",
        form=form,
        figures=figures,
        adherence=adherence,
        described=described,
        query=request.query_string.decode("ascii", "replace"),
    ), (200 if ok else 400)


@bp.get("/outcomes.csv")
@login_required
def outcomes_csv() -> ResponseReturnValue:
    """The same figures as the outcomes page, as CSV."""
    form, figures, adherence, described, ok = _outcomes()
    if not ok:
        return render_template(
            "programmes/outcomes.html", form=form, figures=[], adherence=[], described="",
            query="",
        ), 400  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value", "over"])
    writer.writerow(["period", csv_cell(described), ""])
    for figure in figures:
        writer.writerow([figure.name, figure.value, figure.over])
    for figure in adherence:
        writer.writerow([f"Sessions done, {figure.name.lower()}", figure.value, figure.over])
    response = Response(out.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="outcomes.csv"'
    return response
