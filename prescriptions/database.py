"""Engine tuning: SQLite in WAL mode with a busy timeout and immediate write transactions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def configure_sqlite(engine: Engine) -> None:
    """Make concurrent workers wait for each other instead of failing with 'database is locked'."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a transaction never has to upgrade from
        # reading to writing, which SQLite refuses with SQLITE_BUSY rather than waiting.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def count_rows(model: type, **filters: Any) -> int:
    """How many rows of a model match (used by commands and tests)."""
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in filters.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.execute(stmt).scalar_one()


#: One page of CSV rows, and the key to ask for the next page with (None: that was the last).
RowPage = tuple[list[sa.Row[Any]], int | None]


def allowed_fields(fields: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    return dict(fields)


def paginate(stmt: sa.Select[Any], page: int, per_page: int) -> Pagination:
    """One page of a select; a page past the end is clamped to the last page."""
    result = db.paginate(stmt, page=max(1, page), per_page=per_page, error_out=False)
    if result.page > 1 and result.page > result.pages:
        result = db.paginate(stmt, page=max(1, result.pages), per_page=per_page, error_out=False)
    return result
