"""Plans: create from a template, edit all four weeks, issue, revise, complete, cancel, copy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..assessments.queries import fetch_latest_assessment
from ..companion.queries import fetch_patient_link
from ..domain.adherence import DayLog, implausible, overall, summarise, week_of
from ..domain.catalogue import Exercise
from ..domain.history import compare_items, describe_change, revision_chain
from ..domain.progression import (
    BUILTIN_TEMPLATES,
    WEEKS,
    Item,
    Template,
    propose_items,
    suggest_template,
)
from ..domain.rules import Finding, Severity, blocking_issue, blocking_save
from ..domain.vocab import PlanStatus, ProgrammeStatus
from ..exercises.queries import fetch_catalogue
from ..extensions import db
from ..logs.queries import fetch_logs
from ..mapping.plans import (
    CLINIC_TEMPLATE_PREFIX,
    as_template,
    assessment_facts,
    dose_grid,
    findings_for,
    plan_items,
    template_choices,
    warning_key,
)
from ..mapping.programmes import block_plans
from ..models import Patient, Plan, Programme
from ..patients.queries import fetch_patient, fetch_patient_by_chart, fetch_patients
from ..programmes.operations import ProgrammeRunningError, running_programme, stop_programme
from ..programmes.queries import fetch_block_plans
from ..web import acting, clinic_id
from ..web.charts import progress_charts
from ..web.conflicts import Conflict, Difference, find_conflict, shown
from ..web.errors import render_error
from ..web.forms import whole_number
from ..web.once import Saved, once_form, save_once_or_show, submit_once
from .editor import apply_action
from .forms import (
    CancelForm,
    CopyForm,
    IssueForm,
    NewPlanForm,
    PlanEditForm,
    TemplateForm,
    editor_formdata,
    item_row,
)
from .operations import (
    PlanStateError,
    cancel_plan,
    complete_plan,
    copy_plan,
    create_plan,
    issue_plan,
    revise_plan,
    save_clinic_template,
    update_plan,
)
from .queries import (
    fetch_clinic_template,
    fetch_clinic_templates,
    fetch_current_revision,
    fetch_draft_revision,
    fetch_lineage_plans,
    fetch_plan,
)

bp = Blueprint("plans", __name__)

LOCKED = "This plan was issued and can no longer change. Revise it to make a new draft."


def _plan_or_404(plan_id: int) -> Plan:
    return fetch_plan(clinic_id(), plan_id) or abort(404)


def _template(code: str) -> Template | None:
    if code.startswith(CLINIC_TEMPLATE_PREFIX):
        ident = code.removeprefix(CLINIC_TEMPLATE_PREFIX)
        template_id = whole_number(ident)
        row = fetch_clinic_template(clinic_id(), template_id) if template_id else None
        return as_template(row) if row else None
    return BUILTIN_TEMPLATES.get(code)


@bp.route("/patients/<int:patient_id>/plans/new", methods=["GET", "POST"])
@login_required
def new(patient_id: int) -> ResponseReturnValue:
    """Start a plan: choose a template; the progression fills four weeks from the assessment."""
    patient = fetch_patient(clinic_id(), patient_id) or abort(404)
    choices = template_choices(fetch_clinic_templates(clinic_id()))
    running = running_programme(patient)
    form = NewPlanForm(templates=[(c.code, c.name) for c in choices], running=running is not None)
    latest = fetch_latest_assessment(clinic_id(), patient.id)
    if not form.is_submitted():
        form.template.data = suggest_template(patient.diagnoses)
    current = _current_block(running)

    def save() -> Saved:
        template = _template(form.template.data) or abort(404)
        items = propose_items(template, assessment_facts(latest))
        plan = create_plan(
            patient, template, items, acting(), start=form.start_date.data,
            end_running=form.end_running.data or "", end_reason=form.end_reason.data or "",
        )  # fmt: skip
        return (
            url_for("plans.edit", plan_id=plan.id),
            "Draft created from the template. Check each week, then save.",
        )

    def page() -> str:
        return render_template(
            "plans/new.html", form=form, patient=patient, latest=latest, choices=choices,
            running=running, current=current, today=date.today(),
        )  # fmt: skip

    try:
        return save_once_or_show(form, save, page)
    except (ProgrammeRunningError, IntegrityError):
        # another tab or a twin request started a programme for this patient meanwhile
        db.session.rollback()
        flash(
            "A programme was started for this patient meanwhile: here it is. Plan its next block, "
            "or stop or finish it to start a separate one.",
            "error",
        )
        return redirect(url_for("plans.new", patient_id=patient.id))


def _current_block(running: Programme | None) -> Plan | None:
    """The running programme's latest block (its current plan), or None."""
    if running is None:
        return None
    standing = block_plans(running, fetch_block_plans(clinic_id(), running.id))
    return standing[max(standing)] if standing else None


@bp.get("/plans/<int:plan_id>")
@login_required
def show(plan_id: int) -> ResponseReturnValue:
    """The plan: the four-week grid, its status, and what can be done with it next."""
    return _show_page(_plan_or_404(plan_id))


def _show_page(
    plan: Plan,
    *,
    issue_form: IssueForm | None = None,
    conflict: Conflict | None = None,
    copy_form: CopyForm | None = None,
    copy_matches: Sequence[Patient] = (),
    status: int = 200,
) -> ResponseReturnValue:
    exercises = fetch_catalogue(clinic_id())
    items = plan_items(plan.items)
    findings = findings_for(plan, items, exercises) if plan.is_editable else ()
    warnings = [f for f in findings if f.severity == Severity.WARNING]
    if issue_form is None:
        issue_form = IssueForm(warnings=[(warning_key(f), f.message) for f in warnings])
        issue_form.version.data = str(plan.version)
    # the lineage's days, whichever revision they were logged on
    logs = fetch_logs(clinic_id(), plan.id) if not plan.is_editable else []
    days = [
        DayLog(e.day, e.sessions_done, e.sessions_prescribed, e.leaks, e.pain, e.longest_hold_s)
        for e in logs
    ]
    weeks = summarise(plan.start_date, days)
    flags = _flags(plan, items, days)
    current = (
        fetch_current_revision(clinic_id(), plan) if plan.status == PlanStatus.SUPERSEDED else plan
    )
    return render_template(
        "plans/show.html",
        plan=plan,
        weeks=weeks,
        overall=overall(weeks),
        charts=progress_charts(weeks),
        flags=flags,
        grid=dose_grid(items, exercises),
        names={code: e.name for code, e in exercises.items()},
        findings=[
            {"finding": f, "key": warning_key(f), "href": _cell_link(plan, items, f)}
            for f in findings
        ],
        blocking=blocking_issue(findings),
        issue_form=issue_form,
        conflict=conflict,
        cancel_form=CancelForm(),
        copy_form=copy_form or CopyForm(),
        copy_matches=copy_matches,
        template_form=TemplateForm(),
        current=current,
        draft_revision=fetch_draft_revision(clinic_id(), plan.id)
        if plan.status == "issued"
        else None,
        phone_link=fetch_patient_link(clinic_id(), plan.patient_id),
    ), status


def _flags(plan: Plan, items: list[Item], days: list[DayLog]) -> list[tuple[date, str]]:
    """Logged days whose values look unlikely, kept as logged, for the therapist to check."""
    holds = {
        week: max((i.hold_s or 0 for i in items if i.week == week), default=0) or None
        for week in WEEKS
    }
    flagged = []
    for day in days:
        week = week_of(plan.start_date, day.day)
        reasons = implausible(day, holds.get(week) if week else None)
        if reasons:
            flagged.append((day.day, "; ".join(reasons)))
    return flagged


def _cell_link(plan: Plan, items: list[Item], finding: Finding) -> str:
    """Where in the editor a finding's cell is: the field of its row, or its week."""
    url = url_for("plans.edit", plan_id=plan.id)
    for index, item in enumerate(items):
        if finding.order is not None and (item.week, item.order) == (finding.week, finding.order):
            return f"{url}#items-{index}-{finding.field or 'exercise'}"
    return f"{url}#week-{finding.week}" if finding.week else url


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit(plan_id: int) -> ResponseReturnValue:
    """Edit all four weeks on one page; errors beside the cell, nothing saved until clean."""
    plan = _plan_or_404(plan_id)
    if not plan.is_editable:
        if request.method == "POST":
            return render_error(409, LOCKED)
        flash(LOCKED, "info")
        return redirect(url_for("plans.show", plan_id=plan.id))
    exercises = fetch_catalogue(clinic_id())
    if request.method == "GET":
        form = PlanEditForm(formdata=_stored_formdata(plan), exercises=exercises)
        return _editor(plan, form, 200)
    form = PlanEditForm(exercises=exercises)
    action = request.form.get("action", "save")
    if action != "save":
        rows = apply_action(form.rows(), action, exercises)
        details = {name: request.form.get(name) for name in _DETAILS}
        details["large_print"] = bool(request.form.get("large_print"))
        rebuilt = PlanEditForm(formdata=editor_formdata(details, rows), exercises=exercises)
        return _editor(plan, rebuilt, 200)
    if form.validate():
        if form.version_number() != plan.version:
            return _editor_conflict(plan, form, exercises)
        items = form.domain_items()
        blocking = blocking_save(findings_for(plan, items, exercises))
        if not blocking:
            try:
                update_plan(
                    plan,
                    items,
                    acting(),
                    title=form.title.data,
                    start_date=form.start_date.data,
                    notes_to_patient=form.notes_to_patient.data or "",
                    paper=form.paper.data or None,
                    large_print=bool(form.large_print.data),
                    cue_set=form.cue_set.data or None,
                )
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                return _editor_conflict(_plan_or_404(plan.id), form, exercises)
            flash("Plan saved.", "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
        form.attach(blocking)
    return _editor(plan, form, 400)


_DETAILS = ("version", "title", "start_date", "notes_to_patient", "paper", "cue_set")


def _stored_formdata(plan: Plan) -> Any:
    details: dict[str, Any] = {
        "version": plan.version,
        "title": plan.title,
        "start_date": plan.start_date.isoformat(),
        "notes_to_patient": plan.notes_to_patient,
        "paper": plan.paper or "",
        "large_print": plan.large_print,
        "cue_set": plan.cue_set or "",
    }
    return editor_formdata(details, [item_row(i) for i in plan_items(plan.items)])


def _editor(plan: Plan, form: PlanEditForm, status: int) -> ResponseReturnValue:
    return render_template("plans/edit.html", plan=plan, form=form), status


def _editor_conflict(
    plan: Plan, form: PlanEditForm, exercises: dict[str, Exercise]
) -> ResponseReturnValue:
    """The editor again with the user's typing, the saved plan beside it, ready to apply."""
    typed = {
        "title": form.title.data,
        "start_date": form.start_date.data,
        "notes_to_patient": form.notes_to_patient.data or "",
    }
    differences = [
        Difference(form[name].label.text, shown(getattr(plan, name)), shown(value))
        for name, value in typed.items()
        if getattr(plan, name) != value
    ]
    saved_items, typed_items = plan_items(plan.items), form.domain_items()
    changes = [
        line
        for change in compare_items(saved_items, typed_items)
        for line in describe_change(change, exercises)
    ]
    conflict = find_conflict(clinic_id(), "plan", plan.id, _PLAN_WRITES, differences, changes)
    form.version.data = str(plan.version)  # saving again applies this version on top
    return render_template(
        "plans/edit.html",
        plan=plan,
        form=form,
        conflict=conflict,
        saved_grid=dose_grid(saved_items, exercises),
    ), 409


_PLAN_WRITES = ("plan.update", "plan.create", "plan.revise", "plan.copy", "plan.issue")


#: What a plan's status says when asked to change to another (a repeat or a lost race).
_STANDING = {
    PlanStatus.DRAFT: "This plan is still a draft.",
    PlanStatus.ISSUED: "This plan is issued.",
    PlanStatus.SUPERSEDED: "This plan was replaced by a newer revision.",
    PlanStatus.COMPLETED: "This plan is completed.",
    PlanStatus.CANCELLED: "This plan is cancelled.",
}


def _as_it_stands(plan: Plan, wanted: str) -> ResponseReturnValue:
    """Answer a repeat (a double click, or a twin that won the race) with the plan as it is."""
    if plan.status == wanted:
        flash(f"This plan was already {wanted}. Nothing else changed.", "info")
    else:
        flash(f"{_STANDING.get(PlanStatus(plan.status), '')} It can't be {wanted} now.", "error")
    return redirect(url_for("plans.show", plan_id=plan.id))


def _refused(plan: Plan, error: PlanStateError) -> ResponseReturnValue:
    """Say why the plan can't change that way, on the plan's page."""
    flash(str(error), "error")
    return redirect(url_for("plans.show", plan_id=plan.id))


def _done(plan: Plan, message: str) -> ResponseReturnValue:
    """Commit the plan's change and say what happened, on the plan's page."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/issue")
@login_required
def issue(plan_id: int) -> ResponseReturnValue:
    """Issue a draft once every warning is acknowledged; errors refuse."""
    plan = _plan_or_404(plan_id)
    if not plan.is_editable:
        return _as_it_stands(plan, "issued")
    findings = findings_for(plan, plan_items(plan.items), fetch_catalogue(clinic_id()))
    warnings = [(warning_key(f), f.message) for f in findings if f.severity == Severity.WARNING]
    form = IssueForm(warnings=warnings)
    if blocking_issue(findings):
        return _show_page(plan, status=400)
    if form.version_number() != plan.version:
        # reviewed one version, another was saved since: issue only what was seen
        conflict = find_conflict(clinic_id(), "plan", plan.id, _PLAN_WRITES)
        return _show_page(plan, conflict=conflict, status=409)
    if not form.validate_on_submit():
        form.version.data = str(plan.version)
        return _show_page(plan, issue_form=form, status=400)
    try:
        issue_plan(plan, acting(), warnings)
    except PlanStateError as error:
        return _refused(plan, error)
    return _done(plan, "Plan issued. Print the handout for the patient.")


@bp.post("/plans/<int:plan_id>/revise")
@login_required
def revise(plan_id: int) -> ResponseReturnValue:
    """Open a new draft revision of an issued plan (or the one already open)."""
    plan = _plan_or_404(plan_id)
    existing = fetch_draft_revision(clinic_id(), plan.id)
    if existing is not None:
        return redirect(url_for("plans.edit", plan_id=existing.id))
    try:
        revision = revise_plan(plan, acting())
    except PlanStateError as error:
        return _refused(plan, error)
    db.session.commit()
    flash(f"Revision {revision.revision} is a draft. Issuing it replaces the current plan.", "info")
    return redirect(url_for("plans.edit", plan_id=revision.id))


@bp.post("/plans/<int:plan_id>/complete")
@login_required
def complete(plan_id: int) -> ResponseReturnValue:
    """Mark an issued plan completed."""
    plan = _plan_or_404(plan_id)
    if plan.status != PlanStatus.ISSUED:
        return _as_it_stands(plan, "completed")
    complete_plan(plan, acting())
    return _done(plan, "Plan marked as completed.")


@bp.post("/plans/<int:plan_id>/cancel")
@login_required
def cancel(plan_id: int) -> ResponseReturnValue:
    """Cancel a plan with a reason; it stays on record."""
    plan = _plan_or_404(plan_id)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.ISSUED):
        return _as_it_stands(plan, "cancelled")
    form = CancelForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors) or "Say why the plan is cancelled.", "error")
        return redirect(url_for("plans.show", plan_id=plan.id, _anchor="cancel"))
    cancel_plan(plan, form.reason.data, acting())
    programme = plan.programme
    if (
        form.stop_programme.data
        and programme is not None
        and programme.status == ProgrammeStatus.RUNNING
    ):
        stop_programme(programme, form.reason.data, acting(), on=date.today())
        return _done(plan, "Plan cancelled and its programme stopped. Both stay on the record.")
    return _done(plan, "Plan cancelled. It stays on the patient's record.")


@bp.post("/plans/<int:plan_id>/copy")
@login_required
def copy(plan_id: int) -> ResponseReturnValue:
    """Copy a plan's weeks to another patient of the clinic as a new draft."""
    plan = _plan_or_404(plan_id)
    form = once_form(CopyForm)
    if not form.validate_on_submit():
        return _show_page(plan, copy_form=form, status=400)
    chosen = whole_number(request.form.get("patient_id"))
    if chosen is not None:
        target = fetch_patient(clinic_id(), chosen)
    else:  # an exact chart number copies at once; anything else is a search to choose from
        target = fetch_patient_by_chart(clinic_id(), form.chart_number.data)
    if target is None:
        matches = fetch_patients(clinic_id(), search=form.chart_number.data, per_page=10).items
        if not matches:
            form.chart_number.errors.append(
                f"No patient's name or chart number matches “{form.chart_number.data}”."
            )
        status = 200 if matches else 400
        return _show_page(plan, copy_form=form, copy_matches=matches, status=status)

    def save() -> Saved:
        copied = copy_plan(plan, target, acting(), start=form.start_date.data)
        return (
            url_for("plans.edit", plan_id=copied.id),
            f"Copied to {target.display_name} as a draft.",
        )

    try:
        return submit_once(form, save)
    except (ProgrammeRunningError, IntegrityError):
        db.session.rollback()
        form.chart_number.errors.append(
            f"{target.display_name} has a programme running: plan its next block from their "
            "record, or end it there before copying a plan as a new programme."
        )
        return _show_page(plan, copy_form=form, status=400)


@bp.post("/plans/<int:plan_id>/save-template")
@login_required
def save_template(plan_id: int) -> ResponseReturnValue:
    """Keep this plan's four weeks as a clinic template."""
    plan = _plan_or_404(plan_id)
    form = once_form(TemplateForm)
    if not form.validate_on_submit():
        flash(" ".join(form.name.errors) or "Give the template a name.", "error")
        return redirect(url_for("plans.show", plan_id=plan.id, _anchor="template"))

    def save() -> Saved:
        save_clinic_template(plan, form.name.data, acting())
        return (
            url_for("plans.show", plan_id=plan.id),
            f"Saved as the clinic template “{form.name.data}”.",
        )

    return submit_once(form, save)


@bp.get("/plans/<int:plan_id>/history")
@login_required
def history(plan_id: int) -> ResponseReturnValue:
    """Every revision of this plan and what changed, week by week."""
    plan = _plan_or_404(plan_id)
    by_id = {p.id: p for p in fetch_lineage_plans(clinic_id(), plan.patient_id)}
    links = {ident: p.revises_id for ident, p in by_id.items()}
    chain = [by_id[ident] for ident in revision_chain(plan.id, links)]
    exercises = fetch_catalogue(clinic_id())
    entries = []
    for previous, current in zip([None, *chain[:-1]], chain, strict=True):
        lines: list[str] = []
        if previous is not None:
            for change in compare_items(plan_items(previous.items), plan_items(current.items)):
                lines.extend(describe_change(change, exercises))
        entries.append({"plan": current, "changes": lines, "first": previous is None})
    return render_template("plans/history.html", plan=plan, entries=entries)
