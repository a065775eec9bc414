"""The clinician's start page: what needs attention today."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..companion.queries import fetch_patient_alerts
from ..logs.queries import fetch_low_adherence
from ..models import utcnow
from ..plans.queries import fetch_drafts, fetch_plans_ending
from ..web import clinic_id

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def start() -> ResponseReturnValue:
    """What needs the clinician's attention: plans ending, drafts, patients falling behind."""
    today = date.today()
    return render_template(
        "home/start.html",
        today=today,
        ending=fetch_plans_ending(clinic_id(), today, today + timedelta(days=7)),
        drafts=fetch_drafts(clinic_id(), current_user.id),
        behind=fetch_low_adherence(
            clinic_id(), today - timedelta(days=7), today - timedelta(days=1)
        ),
        # questions and high pain sent from patients' phones in the last fortnight
        patient_alerts=fetch_patient_alerts(
            clinic_id(),
            utcnow() - timedelta(days=14),
            current_app.config["COMPANION_PAIN_ALERT_ABOVE"],
        ),
    )
