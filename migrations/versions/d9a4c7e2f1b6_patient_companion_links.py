"""patient companion: links, idempotency keys, questions; log days entered from the phone

Revision ID: d9a4c7e2f1b6
Revises: d2f7a9c4e6b1
Create Date: 2026-12-01 12:15:00

Existing log days keep their values and their staff author; entered_by_id becomes nullable (a
day logged only from the phone has no staff author yet).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9a4c7e2f1b6'
down_revision = 'd2f7a9c4e6b1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("reissued_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["issued_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_patient_link_clinic_id", "patient_link", ["clinic_id"])
    op.create_table(
        "patient_tap",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["patient_link.id"]),
        sa.PrimaryKeyConstraint("link_id", "key"),
    )
    op.create_index("ix_patient_tap_created_at", "patient_tap", ["created_at"])
    op.create_table(
        "patient_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.ForeignKeyConstraint(["link_id"], ["patient_link.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_patient_question_patient_id", "patient_question", ["patient_id"])
    op.create_index(
        "ix_patient_question_clinic_asked", "patient_question", ["clinic_id", "asked_at"]
    )
    with op.batch_alter_table("log_entry") as batch:
        batch.alter_column("entered_by_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("entered_by_link_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("patient_entry", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            "fk_log_entry_link", "patient_link", ["entered_by_link_id"], ["id"]
        )


def downgrade() -> None:
    # Days logged only from the phone have no staff author, and the old schema needs one; they
    # are clinical records, never deleted: refuse, and let a person decide what to do with them.
    phone_only = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM log_entry WHERE entered_by_id IS NULL")
    ).scalar_one()
    if phone_only:
        raise RuntimeError(
            f"{phone_only} log days were entered only from patients' phones and have no staff "
            "author; the schema before the companion cannot hold them. Nothing was changed: "
            "have staff confirm those days (or export them) before downgrading."
        )
    with op.batch_alter_table("log_entry") as batch:
        batch.drop_constraint("fk_log_entry_link", type_="foreignkey")
        batch.drop_column("patient_entry")
        batch.drop_column("entered_by_link_id")
        batch.alter_column("entered_by_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_patient_question_clinic_asked", table_name="patient_question")
    op.drop_index("ix_patient_question_patient_id", table_name="patient_question")
    op.drop_table("patient_question")
    op.drop_index("ix_patient_tap_created_at", table_name="patient_tap")
    op.drop_table("patient_tap")
    op.drop_index("ix_patient_link_clinic_id", table_name="patient_link")
    op.drop_table("patient_link")
