"""audit chain per clinic

Each clinic's audit rows now chain to the clinic's previous row (and rows without a clinic to
the previous such row), instead of one chain over every clinic. Upgrading first verifies the old
single chain with the audit key and refuses to go on if it is broken (re-linking a broken chain
would hide the break); then it re-links and re-signs each row. ix_audit_chain finds a clinic's
newest row and walks its chain.

Runs with the app's configuration (`flask --app app db upgrade`, or auto-migration on SQLite):
it needs FLOORPLAN_AUDIT_KEY, or the secret key it is derived from, of the server that wrote the
rows.

Revision ID: b7c1e9d04a52
Revises: b8d4f0e2a3c5
Create Date: 2026-12-01 09:25:00

"""

import hashlib
import hmac
import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "b7c1e9d04a52"
down_revision = "b8d4f0e2a3c5"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
EVENTS = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime),
    sa.column("clinic_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("record_type", sa.String),
    sa.column("record_id", sa.Integer),
    sa.column("ip", sa.String),
    sa.column("detail", sa.Text),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _key():
    # As prescriptions.audit.audit_key at this revision.
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"floorplan-audit-chain", hashlib.sha256).digest()


def _digest(key, prev_hash, row):
    # As prescriptions.audit._digest at this revision (frozen here on purpose).
    body = json.dumps(
        [
            prev_hash,
            row.at.isoformat(timespec="microseconds"),
            row.clinic_id,
            row.user_id,
            row.actor,
            row.action,
            row.record_type,
            row.record_id,
            row.ip,
            row.detail,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _first_break(key, rows, per_clinic):
    """The id of the first row that does not verify under a chain rule, or None."""
    last = {}
    for row in rows:
        chain = row.clinic_id if per_clinic else None
        prev = last.get(chain, GENESIS)
        if row.prev_hash != prev or not hmac.compare_digest(row.hash, _digest(key, prev, row)):
            return row.id
        last[chain] = row.hash
    return None


def _relink(per_clinic):
    """Chain the rows by the new rule, after checking them by the old; refuse over a break."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(EVENTS).order_by(EVENTS.c.id)).all()
    if not rows:
        return
    key = _key()
    if _first_break(key, rows, per_clinic) is None:
        return  # chained this way already
    broken = _first_break(key, rows, not per_clinic)
    if broken is not None:
        raise RuntimeError(
            f"The audit chain is broken at event {broken} (or the audit key differs from the "
            "one that wrote it). This migration re-links the chain and will not do so over a "
            "break: run `flask --app app audit-verify` with the previous version, and set "
            "FLOORPLAN_AUDIT_KEY (or FLOORPLAN_SECRET_KEY) to the key that wrote the rows."
        )
    last = {}
    for row in rows:
        chain = row.clinic_id if per_clinic else None
        prev = last.get(chain, GENESIS)
        digest = _digest(key, prev, row)
        if (prev, digest) != (row.prev_hash, row.hash):
            bind.execute(
                sa.update(EVENTS).where(EVENTS.c.id == row.id).values(prev_hash=prev, hash=digest)
            )
        last[chain] = digest


def upgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_chain", ["clinic_id", "id"], unique=False)
    _relink(per_clinic=True)


def downgrade():
    _relink(per_clinic=False)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_chain")
