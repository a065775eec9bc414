"""assessment amendments (void and amend) and chart numbers unique regardless of case and space

- assessment.amends_id, voided_at, voided_by_id, void_reason: an amendment is a new assessment
  pointing at the one it corrects; the old one is voided, never changed or deleted.
- patient.chart_key: the chart number trimmed and case-folded, unique per clinic
  (uq_patient_chart_key). Existing clashes ("rph-1001" and "RPH-1001" in one clinic) do not fail
  the migration: the oldest patient keeps the key, each other one gets "<key>#<patient id>"
  (never a typeable chart number, so saving that patient asks for a new one) and is reported
  on stdout.

Plain ADD COLUMN and CREATE INDEX only: rebuilding a table that other rows point at would trip
SQLite's foreign keys.

Revision ID: b8d4f0e2a3c5
Revises: 575dc8f4d91c
Create Date: 2026-12-01 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f0e2a3c5'
down_revision = '575dc8f4d91c'
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str, name: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)')
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ['id'])


def upgrade():
    _add_reference('assessment', 'amends_id', 'assessment', 'fk_assessment_amends')
    _add_reference('assessment', 'voided_by_id', 'user_account', 'fk_assessment_voided_by')
    op.add_column('assessment', sa.Column('voided_at', sa.DateTime(), nullable=True))
    op.add_column(
        'assessment',
        sa.Column('void_reason', sa.String(length=300), server_default='', nullable=False),
    )
    op.create_index(op.f('ix_assessment_amends_id'), 'assessment', ['amends_id'], unique=False)

    op.add_column(
        'patient', sa.Column('chart_key', sa.String(length=60), server_default='', nullable=False)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, clinic_id, chart_number FROM patient ORDER BY id")
    ).all()
    owner: dict[tuple[int, str], int] = {}
    updates = []
    for patient_id, clinic_id, chart_number in rows:
        key = (chart_number or '').strip().casefold()
        first = owner.setdefault((clinic_id, key), patient_id)
        if first != patient_id:
            print(
                f"patient {patient_id} (clinic {clinic_id}): chart number {chart_number!r} "
                f"clashes with patient {first}; give one of them a new chart number"
            )
            key = f"{key}#{patient_id}"
        updates.append({"id": patient_id, "key": key})
    if updates:
        connection.execute(sa.text("UPDATE patient SET chart_key = :key WHERE id = :id"), updates)
    op.create_index('uq_patient_chart_key', 'patient', ['clinic_id', 'chart_key'], unique=True)


def downgrade():
    op.drop_index('uq_patient_chart_key', table_name='patient')
    op.drop_column('patient', 'chart_key')
    op.drop_index(op.f('ix_assessment_amends_id'), table_name='assessment')
    op.drop_column('assessment', 'void_reason')
    op.drop_column('assessment', 'voided_at')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('assessment', schema=None) as batch_op:
            batch_op.drop_column('voided_by_id')
            batch_op.drop_column('amends_id')
    else:
        op.drop_constraint('fk_assessment_voided_by', 'assessment', type_='foreignkey')
        op.drop_constraint('fk_assessment_amends', 'assessment', type_='foreignkey')
        op.drop_column('assessment', 'voided_by_id')
        op.drop_column('assessment', 'amends_id')
