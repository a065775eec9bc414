"""drop ix_log_clinic_lineage_sums, an index no query reads

d2f7a9c4e6b1 made it for the outcomes page's sums per lineage; since f1c3a5e7b9d2 that page
reads programme_block_sums instead, and no other read of log_entry filters by clinic and
lineage. Every logged day still kept it up to date: on PostgreSQL, with 3,000 demo patients
(58,140 logged days), it was 1.6 MB beside the table's 6.9 MB, and pg_stat_user_indexes counted
no scan of it over every page, the CSV exports and a recount of the block sums.

Revision ID: b5e7d9f1a3c4
Revises: a2d4f6b8c0e1
"""

from alembic import op

revision = "b5e7d9f1a3c4"
down_revision = "a2d4f6b8c0e1"
branch_labels = None
depends_on = None

COLUMNS = ["clinic_id", "lineage_id", "sessions_done", "sessions_prescribed", "leaks"]


def upgrade():
    op.drop_index("ix_log_clinic_lineage_sums", table_name="log_entry")


def downgrade():
    op.create_index("ix_log_clinic_lineage_sums", "log_entry", COLUMNS)
