"""The clinic outcomes page: figures over a period and template, small counts suppressed, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from prescriptions.audit import Actor
from prescriptions.domain.outcomes import BlockSums, clinic_figures
from prescriptions.extensions import db
from prescriptions.mapping.plans import plan_items
from prescriptions.models import Plan, User
from prescriptions.plans import operations as plan_ops

TODAY = date.today()
START = TODAY - timedelta(days=60)


def _two_blocks(
    app,
    clinician,
    make_patient,
    make_assessment,
    make_plan,
    issue_plan,
    log_week,
    *,
    before: int,
    after: int,
    iciq: tuple[int, int] = (12, 8),
) -> int:
    """A patient whose block 1 logged `before` leaks a day and block 2 `after`."""
    patient_id = make_patient(clinician.clinic_id)
    make_assessment(patient_id, clinician.id, assessed_on=START - timedelta(days=3),
                    iciq_total=iciq[0])  # fmt: skip
    make_assessment(patient_id, clinician.id, assessed_on=START + timedelta(days=50),
                    iciq_total=iciq[1])  # fmt: skip
    first = issue_plan(make_plan(patient_id, start=START))
    log_week(first, 1, days={n: {"sessions_done": 3, "leaks": before} for n in range(7)})
    with app.app_context():
        plan = db.session.get(Plan, first)
        actor = Actor(db.session.get(User, clinician.id))
        plan_ops.complete_plan(plan, actor)
        second = plan_ops.create_next_block(
            plan.programme, plan, plan_items(plan.items), {}, actor, block=2,
            start=START + timedelta(days=28),
        )  # fmt: skip
        db.session.commit()
        second_id = second.id
    issue_plan(second_id)
    log_week(second_id, 1, days={n: {"sessions_done": 1, "leaks": after} for n in range(7)})
    return first


def _figures(page: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', page))


def test_the_figures_over_five_programmes(
    app, signed_in, clinician, make_patient, make_assessment, make_plan, issue_plan, log_week,
    other_clinic,
):  # fmt: skip
    for before, after in ((2, 1), (2, 0), (4, 2), (3, 2), (2, 2), (1, 1)):
        _two_blocks(app, clinician, make_patient, make_assessment, make_plan, issue_plan,
                    log_week, before=before, after=after)  # fmt: skip
    page = signed_in.get("/outcomes").get_data(as_text=True)
    figures = _figures(page)
    assert figures["Programmes started"] == "6"  # the other clinic's are not counted
    assert figures["Still running"] == "6" and figures["Finished"] == "0"
    # leaks a week 14 -> 7, 14 -> 0, 28 -> 14, 21 -> 14, 14 -> 14, 7 -> 7: median -7
    assert figures["Median change in leaks a week (first block to last)"] == "-7"
    assert figures["Patients with at least 50% fewer leaks"] == "not shown (fewer than 5 of 6)"
    assert figures["Median change in ICIQ-UI SF"] == "-4 points"
    assert figures["Block 1"] == "100%" and figures["Block 2"] == "33%"
    body = signed_in.get("/outcomes.csv").get_data(as_text=True)
    rows = {row[0]: row[1] for row in csv.reader(io.StringIO(body))}
    assert rows["Median change in leaks a week (first block to last)"] == "-7"
    assert rows["Sessions done, block 2"] == "33%"
    later = signed_in.get(f"/outcomes?first={TODAY.isoformat()}").get_data(as_text=True)
    assert _figures(later)["Programmes started"] == "0"
    other = signed_in.get("/outcomes?template=strengthening").get_data(as_text=True)
    assert _figures(other)["Programmes started"] == "6"


def test_small_counts_are_suppressed_and_bad_filters_refused(
    app, signed_in, clinician, make_patient, make_plan, issue_plan
):
    issue_plan(make_plan(make_patient(clinician.clinic_id)))
    figures = _figures(signed_in.get("/outcomes").get_data(as_text=True))
    assert figures["Programmes started"] == "fewer than 5"
    assert figures["Median change in ICIQ-UI SF"].startswith("not shown")
    bad = signed_in.get("/outcomes?first=2026-12-01&last=2026-01-01")
    assert bad.status_code == 400
    assert "The end of the period is before its start." in bad.get_data(as_text=True)
    assert signed_in.get("/outcomes?template=nonsense").status_code == 400
    assert signed_in.get("/outcomes?first=yesterday").status_code == 400
    assert signed_in.get("/outcomes.csv?first=yesterday").status_code == 400


def test_clinic_figures_suppress_every_small_cell():
    blocks = [BlockSums(p, 1, 3, 3, 14, 7) for p in range(4)]
    blocks += [BlockSums(p, 2, 1, 3, 0, 7) for p in range(4)]
    figures, adherence = clinic_figures({"running": 3, "finished": 1}, blocks, {})
    values = {f.name: f.value for f in figures}
    assert values["Programmes started"] == "fewer than 5"
    assert values["Finished"] == "fewer than 5" and values["Stopped early"] == "0"
    assert values["Median change in leaks a week (first block to last)"].startswith("not shown")
    assert all(f.value.startswith("not shown") for f in adherence)
    more = blocks + [BlockSums(9, 1, 2, 3, 7, 7), BlockSums(9, 2, 3, 3, 0, 7)]
    figures, adherence = clinic_figures({"running": 5}, more, {})
    values = {f.name: f.value for f in figures}
    assert values["Patients with at least 50% fewer leaks"] == "100%"
    assert [f.value for f in adherence] == ["93%", "47%"]


def test_the_date_fields_show_the_default_period(signed_in):
    """The last twelve months are filled into the fields, not only stated in the heading."""
    page = signed_in.get("/outcomes").get_data(as_text=True)
    year_ago = (TODAY - timedelta(days=365)).isoformat()
    assert f'name="first" type="date" value="{year_ago}"' in page
    assert f'name="last" type="date" value="{TODAY.isoformat()}"' in page
    # a chosen start keeps its value; the end still defaults to today
    chosen = (TODAY - timedelta(days=30)).isoformat()
    page = signed_in.get(f"/outcomes?first={chosen}").get_data(as_text=True)
    assert f'name="first" type="date" value="{chosen}"' in page
    assert f'name="last" type="date" value="{TODAY.isoformat()}"' in page
