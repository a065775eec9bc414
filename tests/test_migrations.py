"""`flask db upgrade` on an empty database gives exactly the schema the models describe."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from prescriptions import create_app
from prescriptions.extensions import db
from tests.factories import MIGRATIONS, SERVER_URL


def _schema_differences(url: str) -> list[object]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": False, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": False}
            )
            differences = compare_metadata(context, db.metadata)
        downgrade(directory=MIGRATIONS, revision="base")
        with db.engine.connect() as connection:
            left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert not left, f"downgrade left tables behind: {left}"
    return differences


def test_upgrade_matches_the_models_on_sqlite(tmp_path):
    assert _schema_differences(f"sqlite:///{tmp_path / 'migrated.sqlite'}") == []


def test_upgrade_matches_the_models_on_postgresql():
    if not SERVER_URL.startswith("postgresql"):
        import pytest

        pytest.skip("TEST_DATABASE_URL is not a PostgreSQL database")
    schema = f"migrate_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(SERVER_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in SERVER_URL else "?"
    try:
        url = f"{SERVER_URL}{separator}options=-csearch_path%3D{schema}"
        assert _schema_differences(url) == []
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_the_scans_migration_keeps_existing_clinics_and_their_scans_off(tmp_path):
    """Clinics written before the sheet scans revision upgrade with scans not kept; downgrade works."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}", "AUTO_MIGRATE": False,
         "SECRET_KEY": "t"}
    )  # fmt: skip
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="c5e8f1a2b3d4")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO clinic (name, address, phone, email, paper, footer_text, country,"
                    " emergency_number, out_of_hours_number, require_two_factor, created_at,"
                    " version) VALUES ('Old Clinic', '1 Road', '', '', 'letter', '', 'GB', '999',"
                    " '111', 0, CURRENT_TIMESTAMP, 3)"
                )
            )
        upgrade(directory=MIGRATIONS, revision="d2f7a9c1e6b8")
        with db.engine.connect() as connection:
            row = connection.execute(
                sa.text("SELECT name, paper, version, keep_scans FROM clinic")
            ).one()
            assert tuple(row) == ("Old Clinic", "letter", 3, False)
            assert connection.execute(sa.text("SELECT count(*) FROM sheet_scan")).scalar() == 0
        downgrade(directory=MIGRATIONS, revision="c5e8f1a2b3d4")
        with db.engine.connect() as connection:
            assert "sheet_scan" not in sa.inspect(connection).get_table_names()
            assert connection.execute(sa.text("SELECT name FROM clinic")).scalar() == "Old Clinic"
        db.engine.dispose()
