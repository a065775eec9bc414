"""Writes of scanned sheets: a read page is checked against its signed code and held until
a therapist confirms it (through the log's own save) or discards it."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import cv2
import sqlalchemy as sa

from sheets import SheetRead

from ..audit import Actor, acting_user, record_event
from ..domain.progression import WEEKS
from ..extensions import db
from ..mapping.sheets import server_key, verify
from ..models import Clinic, Plan, SheetScan, utcnow
from ..plans.queries import fetch_current_revision, fetch_plan
from .reading import reading_of

#: An unconfirmed scan is deleted after this long: the upload is kept only for its confirmation.
SCAN_TTL = timedelta(days=1)


class ScanRefused(ValueError):
    """A page that is not one of this clinic's sheets, or cannot be filed; says why, for people."""


def identify_sheet(clinic_id: int, read: SheetRead) -> tuple[Plan, int]:
    """The plan (its current revision) and week a read page belongs to, or ScanRefused."""
    sheet = verify(server_key(), read.signed)
    if sheet is None or sheet.clinic_id != clinic_id:
        raise ScanRefused(
            "This sheet was not printed by this clinic, or its code has been altered: "
            "it cannot be read safely."
        )
    plan = fetch_plan(clinic_id, sheet.plan_id)
    if plan is None:
        raise ScanRefused("This sheet belongs to a plan that no longer exists.")
    if sheet.week == 0:
        raise ScanRefused(
            "This is the spare sheet, which has no dates: enter it by hand on the week it is for."
        )
    if sheet.week not in WEEKS:
        raise ScanRefused("This sheet names a week the plan does not have.")
    starts = plan.start_date + timedelta(days=7 * (sheet.week - 1))
    if read.spec.starts != starts:
        raise ScanRefused("The sheet's dates do not match its plan: it cannot be read safely.")
    if plan.is_editable:
        raise ScanRefused("This sheet is of a draft plan: issue the plan first.")
    return fetch_current_revision(clinic_id, plan), sheet.week


def add_scan(
    clinic: Clinic, plan: Plan, week: int, read: SheetRead, batch: str, by: Actor
) -> SheetScan:
    """Hold one read page for confirmation; its page image only if the clinic keeps scans."""
    image = None
    if clinic.keep_scans:
        ok, png = cv2.imencode(".png", read.page)
        image = png.tobytes() if ok else None
    scan = SheetScan(
        clinic_id=clinic.id,
        plan_id=plan.id,
        week=week,
        page=read.spec.page,
        batch=batch,
        reading=json.dumps(reading_of(read)),
        image=image,
        created_by_id=acting_user(by).id,
    )
    db.session.add(scan)
    db.session.flush()
    record_event(by, "scan.read", plan, f"week {week}")
    return scan


def new_batch() -> str:
    """A fresh name for the pages of one upload."""
    return secrets.token_hex(16)


def confirm_scan(scan: SheetScan, keep: bool) -> None:
    """The scan's log is saved: keep the scan on record, or delete it."""
    if keep and scan.image is not None:
        scan.confirmed_at = utcnow()
        scan.reading = json.dumps({"page": scan.page})  # the images of the cells go with it
    else:
        db.session.delete(scan)
    db.session.flush()


def discard_scan(scan: SheetScan, by: Actor) -> None:
    """Throw a scanned page away unsaved."""
    record_event(by, "scan.discard", scan.plan, f"week {scan.week}")
    db.session.delete(scan)
    db.session.flush()


def purge_scans() -> int:
    """Delete every scan left unconfirmed longer than SCAN_TTL; returns how many."""
    done = db.session.execute(
        sa.delete(SheetScan).where(
            SheetScan.confirmed_at.is_(None), SheetScan.created_at < utcnow() - SCAN_TTL
        )
    )
    return done.rowcount or 0
