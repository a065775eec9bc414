"""Engine tuning: SQLite in WAL mode whose reads never take the write lock; server timeouts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .extensions import db

#: How long an SQLite writer waits for another to finish (gunicorn kills a request at 30 s).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: PostgreSQL: give up connecting after this long (libpq's minimum is 2 s).
PG_CONNECT_TIMEOUT_S = 3
#: PostgreSQL: cancel one statement after this long, and a wait for a lock after this long.
PG_STATEMENT_TIMEOUT_MS = 15_000
PG_LOCK_TIMEOUT_MS = 5_000
#: PostgreSQL: end a session that sits inside a transaction doing nothing (a stuck worker).
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000

_WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
_MODE = "floorplan.sqlite_transaction"  #: connection.info key: "deferred" or "immediate"


def engine_options(url: str, configured: dict[str, Any] | None = None) -> dict[str, Any]:
    """SQLAlchemy engine options: no SQL parameters in errors or logs, and server timeouts."""
    options: dict[str, Any] = {"pool_pre_ping": True, **(configured or {})}
    # Patient names and birth dates travel as parameters; an error message must never carry them.
    options["hide_parameters"] = True
    if url.startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
        timeouts = (
            f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS} "
            f"-c lock_timeout={PG_LOCK_TIMEOUT_MS} "
            f"-c idle_in_transaction_session_timeout={PG_IDLE_IN_TRANSACTION_TIMEOUT_MS}"
        )
        # connect_args replace the URL's own options (a search_path, say): keep both.
        from_url = sa.engine.make_url(url).query.get("options", "")
        if isinstance(from_url, tuple):
            from_url = " ".join(from_url)
        existing = connect_args.get("options", from_url)
        connect_args["options"] = f"{existing} {timeouts}".strip()
        # A server that vanishes without closing the connection is noticed within about 20 s.
        connect_args.setdefault("keepalives", 1)
        connect_args.setdefault("keepalives_idle", 10)
        connect_args.setdefault("keepalives_interval", 3)
        connect_args.setdefault("keepalives_count", 3)
        connect_args.setdefault("tcp_user_timeout", 20_000)
        options["connect_args"] = connect_args
    return options


def configure_sqlite(engine: Engine, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Reads run in a deferred transaction; the first write turns it into an IMMEDIATE one."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred BEGIN reads a WAL snapshot and blocks no writer, however long it runs.
        connection.exec_driver_sql("BEGIN")
        connection.info[_MODE] = "deferred"

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get(_MODE) == "deferred" and _is_write(statement):
            _switch_to_immediate(connection, cursor)

    @event.listens_for(engine, "savepoint")
    def _before_savepoint(connection: Connection, _name: Any) -> None:
        # A savepoint only exists to be written under; and switching later would release it.
        if connection.info.get(_MODE) == "deferred":
            _switch_to_immediate(connection, connection.connection.dbapi_connection.cursor())

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Connection) -> None:
        connection.info.pop(_MODE, None)


def _is_write(statement: str) -> bool:
    words = statement.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _WRITE_VERBS


def _switch_to_immediate(connection: Connection, cursor: Any) -> None:
    """End the read-only transaction and take the write lock (waiting out the busy timeout).

    SQLite cannot upgrade a read transaction whose snapshot another writer has moved past (it
    answers "database is locked" at once), so the reads before a write are committed (they
    wrote nothing) and the write begins IMMEDIATE. Reads and the write are then no more atomic
    than under PostgreSQL's READ COMMITTED, which the code must handle anyway.
    """
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")
    connection.info[_MODE] = "immediate"


def begin_write(connection: Connection) -> None:
    """Take SQLite's write lock now, before reads that a write depends on (the audit chain)."""
    if connection.dialect.name == "sqlite" and connection.info.get(_MODE) == "deferred":
        _switch_to_immediate(connection, connection.connection.dbapi_connection.cursor())


class ValueTooLong(ValueError):
    """A text value longer than its column allows (SQLite would store it; PostgreSQL refuses)."""


def _check_lengths(_mapper: Any, _connection: Any, target: Any) -> None:
    table = getattr(target, "__table__", None)
    if table is None:
        return
    for column in table.columns:
        length = getattr(column.type, "length", None)
        if not isinstance(column.type, sa.String) or length is None:
            continue
        value = getattr(target, column.key, None) if column.key in target.__dict__ else None
        if isinstance(value, str) and len(value) > length:
            raise ValueTooLong(
                f"{table.name}.{column.name} holds at most {length} characters, not {len(value)}."
            )


def enforce_lengths() -> None:
    """Refuse over-long text at flush on every database, as PostgreSQL would (once per process)."""
    if not event.contains(db.Model, "before_insert", _check_lengths):
        event.listen(db.Model, "before_insert", _check_lengths, propagate=True)
        event.listen(db.Model, "before_update", _check_lengths, propagate=True)


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
