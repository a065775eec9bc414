"""submission tokens belong to a clinic and a user; old tokens are purged

A one-time form token was looked up across every clinic. Its key is now (clinic, user, token),
and created_at is indexed for the purge. The rows only guard forms opened in the last day, so
the table is rebuilt empty rather than migrated.

Revision ID: b1c4e2a9d7f0
Revises: 46334d7eb385
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1c4e2a9d7f0'
down_revision = '46334d7eb385'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('submission')
    op.create_table('submission',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('clinic_id', 'user_id', 'token')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_created_at'), ['created_at'], unique=False)


def downgrade():
    op.drop_table('submission')
    op.create_table('submission',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], ),
    sa.PrimaryKeyConstraint('token')
    )
