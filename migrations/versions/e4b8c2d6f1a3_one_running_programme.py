"""one running programme per patient

A patient whose lineages each became a programme may have several running: the most recently
started one keeps running and the others are stopped on the day it started, with a reason that
says why. Then a partial unique index keeps one running programme per patient.

Revision ID: e4b8c2d6f1a3
Revises: d9a4c7e2f1b6
"""

from alembic import op
import sqlalchemy as sa

revision = "e4b8c2d6f1a3"
down_revision = "d9a4c7e2f1b6"  # after the programmes revision (it needs its table) and the companion
branch_labels = None
depends_on = None

REASON = "Stopped by the upgrade: a later programme of this patient was running."


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, patient_id, started_on FROM programme WHERE status = 'running' "
            "ORDER BY patient_id, started_on DESC, id DESC"
        )
    ).all()
    kept: dict[int, object] = {}
    for programme_id, patient_id, started_on in rows:
        if patient_id not in kept:
            kept[patient_id] = started_on
            continue
        connection.execute(
            sa.text(
                "UPDATE programme SET status = 'stopped', status_reason = :reason, "
                "ended_on = :ended, version = version + 1 WHERE id = :id"
            ),
            {"reason": REASON, "ended": kept[patient_id], "id": programme_id},
        )
        print(f"programme {programme_id} stopped: a later programme of patient {patient_id} runs")
    op.create_index(
        "ux_programme_running_patient",
        "programme",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade():
    op.drop_index("ux_programme_running_patient", table_name="programme")
