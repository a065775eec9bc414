"""Reads of scanned sheets awaiting confirmation, always scoped to a clinic."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Plan, SheetScan


def fetch_scan(clinic_id: int, scan_id: int) -> SheetScan | None:
    """One scanned page of the clinic still waiting to be confirmed."""
    return db.session.scalar(
        sa.select(SheetScan).where(
            SheetScan.id == scan_id,
            SheetScan.clinic_id == clinic_id,
            SheetScan.confirmed_at.is_(None),
        )
    )


def fetch_kept_scan_image(clinic_id: int, scan_id: int) -> bytes | None:
    """The stored page image of one of the clinic's scans, if the clinic keeps scans."""
    return db.session.scalar(
        sa.select(SheetScan.image).where(SheetScan.id == scan_id, SheetScan.clinic_id == clinic_id)
    )


def _scans(
    clinic_id: int, *where: sa.ColumnElement[bool], order_by: tuple, limit: int
) -> list[SheetScan]:
    """The clinic's scans matching `where`, in `order_by`, with their plan and patient loaded."""
    return list(
        db.session.scalars(
            sa.select(SheetScan)
            .where(SheetScan.clinic_id == clinic_id, *where)
            .options(joinedload(SheetScan.plan).joinedload(Plan.patient))
            .order_by(*order_by)
            .limit(limit)
        )
    )


def fetch_pending_scans(clinic_id: int, limit: int = 50) -> list[SheetScan]:
    """The clinic's scanned pages waiting to be confirmed, oldest first, with plan and patient."""
    return _scans(
        clinic_id,
        SheetScan.confirmed_at.is_(None),
        order_by=(SheetScan.created_at, SheetScan.id),
        limit=limit,
    )


def fetch_kept_scans(clinic_id: int, limit: int = 20) -> list[SheetScan]:
    """The clinic's latest confirmed scans kept on record, with plan and patient."""
    return _scans(
        clinic_id,
        SheetScan.confirmed_at.is_not(None),
        order_by=(SheetScan.confirmed_at.desc(), SheetScan.id.desc()),
        limit=limit,
    )


def fetch_next_scan(clinic_id: int, batch: str, after: int) -> int | None:
    """The id of the next page of the same upload still waiting, if any."""
    return db.session.scalar(
        sa.select(SheetScan.id)
        .where(
            SheetScan.clinic_id == clinic_id,
            SheetScan.batch == batch,
            SheetScan.confirmed_at.is_(None),
            SheetScan.id != after,
        )
        .order_by(SheetScan.id)
        .limit(1)
    )
