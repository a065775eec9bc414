"""the start page's reads of log_entry from indexes

The start page lists the questions and high pain patients sent from their phones in the last
fortnight. Its read of the phone-logged days filtered log_entry by clinic through
ix_log_clinic_day, so it walked every logged day of the clinic (193,000 at 10,000 patients,
250 ms on SQLite) to find the few with entered_by_link_id set. A partial index on (clinic_id,
updated_at) of those rows alone gives them latest first.

Its list of patients falling behind adds up last week's days per lineage (26,000 rows at 10,000
patients), each read from the table; ix_log_clinic_day gains the columns it adds up, so that read
is index-only (about half the time on SQLite).

Revision ID: a2d4f6b8c0e1
Revises: f1c3a5e7b9d2
"""

from alembic import op
import sqlalchemy as sa

revision = "a2d4f6b8c0e1"
down_revision = "f1c3a5e7b9d2"
branch_labels = None
depends_on = None

PHONE_LOGGED = "entered_by_link_id IS NOT NULL"
CLINIC_DAY_WIDE = ["clinic_id", "day", "lineage_id", "sessions_done", "sessions_prescribed"]


def _widen(columns):
    op.drop_index("ix_log_clinic_day", table_name="log_entry")
    op.create_index("ix_log_clinic_day", "log_entry", columns)


def upgrade():
    op.create_index(
        "ix_log_clinic_phone_updated",
        "log_entry",
        ["clinic_id", "updated_at"],
        sqlite_where=sa.text(PHONE_LOGGED),
        postgresql_where=sa.text(PHONE_LOGGED),
    )
    _widen(CLINIC_DAY_WIDE)


def downgrade():
    _widen(CLINIC_DAY_WIDE[:2])
    op.drop_index("ix_log_clinic_phone_updated", table_name="log_entry")
