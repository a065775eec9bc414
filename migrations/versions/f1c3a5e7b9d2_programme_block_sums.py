"""programme block sums for the outcomes page

programme_block_sums holds each programme block's logged days added up (days, sessions done and
prescribed, leaks and the days they were recorded on), kept by the LogEntry flush events in the
same transaction as the days; the outcomes page reads these few rows a programme instead of
every logged day of the clinic. Filled here from log_entry, through each lineage's first plan.
ix_programme_clinic_started and ix_assessment_patient_date gain the columns the outcomes page's
other reads use, so those are index-only too.

Revision ID: f1c3a5e7b9d2
Revises: e4b8c2d6f1a3
"""

from alembic import op
import sqlalchemy as sa

revision = "f1c3a5e7b9d2"
down_revision = "e4b8c2d6f1a3"
branch_labels = None
depends_on = None

PROGRAMME_WIDE = ["clinic_id", "started_on", "template_code", "status", "patient_id", "ended_on"]
ASSESSMENT_WIDE = ["patient_id", "assessed_on", "iciq_total", "voided_at", "clinic_id"]


def _widen(table, name, columns):
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns)


def upgrade():
    op.create_table(
        "programme_block_sums",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("sessions_done", sa.Integer(), nullable=False),
        sa.Column("sessions_prescribed", sa.Integer(), nullable=False),
        sa.Column("leaks", sa.Integer(), nullable=False),
        sa.Column("leak_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("programme_id", "block_number"),
    )
    op.create_index(
        "ix_block_sums_clinic",
        "programme_block_sums",
        ["clinic_id", "programme_id", "block_number", "days", "sessions_done",
         "sessions_prescribed", "leaks", "leak_days"],
    )  # fmt: skip
    _widen("programme", "ix_programme_clinic_started", PROGRAMME_WIDE)
    _widen("assessment", "ix_assessment_patient_date", ASSESSMENT_WIDE)
    op.execute(
        "INSERT INTO programme_block_sums (programme_id, block_number, clinic_id, days, "
        "sessions_done, sessions_prescribed, leaks, leak_days) "
        "SELECT plan.programme_id, plan.block_number, plan.clinic_id, count(*), "
        "sum(log_entry.sessions_done), sum(log_entry.sessions_prescribed), "
        "coalesce(sum(log_entry.leaks), 0), count(log_entry.leaks) "
        "FROM log_entry JOIN plan ON plan.id = log_entry.lineage_id "
        "WHERE plan.programme_id IS NOT NULL "
        "GROUP BY plan.programme_id, plan.block_number, plan.clinic_id"
    )


def downgrade():
    _widen("assessment", "ix_assessment_patient_date", ASSESSMENT_WIDE[:2])
    _widen("programme", "ix_programme_clinic_started", PROGRAMME_WIDE[:2])
    op.drop_index("ix_block_sums_clinic", table_name="programme_block_sums")
    op.drop_table("programme_block_sums")
