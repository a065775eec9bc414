"""programmes of blocks: a revision chain is a lineage; a programme holds lineages as blocks

- plan.programme_id / log_entry.programme_id (the first plan of a revision chain) are renamed
  lineage_id, with their index and constraints (uq_log_lineage_day, fk_log_lineage,
  fk_plan_lineage), so that "programme" can name the course of care.
- programme: a course of care (patient, goal, block_count 1-6, status running / finished /
  stopped with dates, template). plan.programme_id and plan.block_number place a plan (and
  every revision of it) in its programme; plan_item.reason keeps why a dose was proposed and
  plan_item.patient_reason the same in the patient's words; ix_log_clinic_lineage_sums lets
  the outcomes page sum a clinic's logged days from the index alone.

Every existing lineage becomes a one-block programme, with the id of its first plan: running
while a revision is a draft or issued, else finished (completed) or stopped (cancelled) on the
day its last revision closed.

Revision ID: d2f7a9c4e6b1
Revises: d2f7a9c1e6b8
Create Date: 2026-12-01 12:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f7a9c4e6b1'
down_revision = 'd2f7a9c1e6b8'
branch_labels = None
depends_on = None


def _rename_chain(old: str, new: str) -> None:
    """Rename the revision-chain columns, index and constraints from `old` to `new`."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index(f'ix_plan_{old}_id', table_name='plan')
    # A plain RENAME COLUMN on SQLite too: rebuilding "plan" there would trip the foreign keys
    # of every row that points at it (its foreign key to itself is unnamed on SQLite).
    op.execute(f'ALTER TABLE plan RENAME COLUMN {old}_id TO {new}_id')
    if not sqlite:
        op.execute(f'ALTER TABLE plan RENAME CONSTRAINT fk_plan_{old} TO fk_plan_{new}')
    op.create_index(f'ix_plan_{new}_id', 'plan', [f'{new}_id'], unique=False)
    if sqlite:
        with op.batch_alter_table('log_entry', schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_log_{old}', type_='foreignkey')
            batch_op.drop_constraint(f'uq_log_{old}_day', type_='unique')
            batch_op.alter_column(f'{old}_id', new_column_name=f'{new}_id')
        # a second pass: batch mode would name the old column in the new constraints
        with op.batch_alter_table('log_entry', schema=None) as batch_op:
            batch_op.create_unique_constraint(f'uq_log_{new}_day', [f'{new}_id', 'day'])
            batch_op.create_foreign_key(f'fk_log_{new}', 'plan', [f'{new}_id'], ['id'])
    else:
        op.execute(f'ALTER TABLE log_entry RENAME COLUMN {old}_id TO {new}_id')
        op.execute(f'ALTER TABLE log_entry RENAME CONSTRAINT uq_log_{old}_day TO uq_log_{new}_day')
        op.execute(f'ALTER TABLE log_entry RENAME CONSTRAINT fk_log_{old} TO fk_log_{new}')


def _status(revisions: list[tuple]) -> tuple[str, object]:
    """A lineage's programme status and end date from its revisions (newest last)."""
    if any(status in ('draft', 'issued') for status, _closed in revisions):
        return 'running', None
    status, closed = revisions[-1]
    ended = closed.date() if hasattr(closed, 'date') else (str(closed)[:10] if closed else None)
    return ('finished' if status == 'completed' else 'stopped'), ended


def upgrade():
    _rename_chain('programme', 'lineage')
    op.create_table(
        'programme',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('template_code', sa.String(length=40), nullable=False),
        sa.Column('goal', sa.Text(), nullable=False),
        sa.Column('block_count', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('status_reason', sa.String(length=300), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_programme_clinic_started', 'programme', ['clinic_id', 'started_on'])
    op.create_index('ix_programme_patient', 'programme', ['patient_id', 'started_on'])
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE plan ADD COLUMN programme_id INTEGER REFERENCES programme (id)')
    else:
        op.add_column('plan', sa.Column('programme_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_plan_programme', 'plan', 'programme', ['programme_id'], ['id'])
    op.add_column(
        'plan', sa.Column('block_number', sa.Integer(), nullable=False, server_default='1')
    )
    op.create_index('ix_plan_programme_id', 'plan', ['programme_id'], unique=False)
    op.add_column(
        'plan_item',
        sa.Column('reason', sa.String(length=400), nullable=False, server_default=''),
    )
    op.add_column(
        'plan_item',
        sa.Column('patient_reason', sa.String(length=300), nullable=False, server_default=''),
    )

    op.create_index(
        'ix_log_clinic_lineage_sums',
        'log_entry',
        ['clinic_id', 'lineage_id', 'sessions_done', 'sessions_prescribed', 'leaks'],
    )

    connection = op.get_bind()
    # Every lineage becomes a one-block programme whose id is its first plan's.
    connection.execute(
        sa.text(
            "INSERT INTO programme (id, clinic_id, patient_id, template_code, goal, block_count, "
            "status, status_reason, started_on, created_by_id, created_at, updated_at, version) "
            "SELECT id, clinic_id, patient_id, template_code, purpose, 1, 'running', '', "
            "start_date, author_id, created_at, created_at, 1 FROM plan WHERE lineage_id IS NULL"
        )
    )
    connection.execute(sa.text("UPDATE plan SET programme_id = COALESCE(lineage_id, id)"))
    chains: dict[int, list[tuple]] = {}
    for key, status, closed in connection.execute(
        sa.text(
            "SELECT COALESCE(lineage_id, id), status, closed_at FROM plan ORDER BY revision, id"
        )
    ):
        chains.setdefault(key, []).append((status, closed))
    ended = []
    for key, revisions in chains.items():
        status, end = _status(revisions)
        if status != 'running':
            ended.append({"id": key, "status": status, "ended": end})
    if ended:
        connection.execute(
            sa.text("UPDATE programme SET status = :status, ended_on = :ended WHERE id = :id"),
            ended,
        )
    if connection.dialect.name == 'postgresql':
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('programme', 'id'), "
                "COALESCE((SELECT MAX(id) FROM programme), 0) + 1, false)"
            )
        )


def downgrade():
    op.drop_index('ix_log_clinic_lineage_sums', table_name='log_entry')
    op.drop_index('ix_plan_programme_id', table_name='plan')
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.drop_column('patient_reason')
        batch_op.drop_column('reason')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('plan', schema=None) as batch_op:
            batch_op.drop_column('block_number')
            batch_op.drop_column('programme_id')
    else:
        op.drop_constraint('fk_plan_programme', 'plan', type_='foreignkey')
        op.drop_column('plan', 'block_number')
        op.drop_column('plan', 'programme_id')
    op.drop_index('ix_programme_patient', table_name='programme')
    op.drop_index('ix_programme_clinic_started', table_name='programme')
    op.drop_table('programme')
    _rename_chain('lineage', 'programme')
