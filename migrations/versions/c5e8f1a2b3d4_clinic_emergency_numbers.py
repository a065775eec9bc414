"""clinic emergency numbers: the country and the numbers the handout's safety box prints

Revision ID: c5e8f1a2b3d4
Revises: b7c1e9d04a52
Create Date: 2026-12-01 09:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e8f1a2b3d4'
down_revision = 'b7c1e9d04a52'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(sa.Column("country", sa.String(2), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("emergency_number", sa.String(20), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("out_of_hours_number", sa.String(40), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("out_of_hours_number")
        batch.drop_column("emergency_number")
        batch.drop_column("country")
