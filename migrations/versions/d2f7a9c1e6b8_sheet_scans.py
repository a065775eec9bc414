"""sheet scans: returned sheets read and awaiting confirmation, and the clinic's keep-scans setting

Revision ID: d2f7a9c1e6b8
Revises: c5e8f1a2b3d4
Create Date: 2026-12-01 12:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d2f7a9c1e6b8"
down_revision = "c5e8f1a2b3d4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column("keep_scans", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "sheet_scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=False),
        sa.Column("reading", sa.Text(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sheet_scan_clinic", "sheet_scan", ["clinic_id", "created_at"])
    op.create_index(op.f("ix_sheet_scan_plan_id"), "sheet_scan", ["plan_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sheet_scan_plan_id"), table_name="sheet_scan")
    op.drop_index("ix_sheet_scan_clinic", table_name="sheet_scan")
    op.drop_table("sheet_scan")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("keep_scans")
