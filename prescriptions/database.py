"""Engine tuning: SQLite in WAL mode whose reads never take the write lock; server timeouts."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from .extensions import db

#: Timeouts, each a FLOORPLAN_... setting, chosen so a request fails clearly (a 503 page) well
#: before gunicorn kills its worker at 30 s (gunicorn.conf.py).
TIMEOUTS: dict[str, int] = {
    #: how long an SQLite writer waits for another to finish
    "SQLITE_BUSY_TIMEOUT_MS": 10_000,
    #: PostgreSQL: give up connecting after this long (libpq's minimum is 2 s)
    "DATABASE_CONNECT_TIMEOUT_S": 3,
    #: PostgreSQL: the server cancels one statement after this long (0: never)
    "DATABASE_STATEMENT_TIMEOUT_MS": 15_000,
    #: PostgreSQL: the server gives up waiting for a lock (a row, the audit chain) after this long
    "DATABASE_LOCK_TIMEOUT_MS": 5_000,
    #: PostgreSQL: the server ends a session idle inside a transaction this long (a stuck worker)
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS": 60_000,
    #: PostgreSQL: this process cuts a connection whose server has not answered for this long
    #: (a frozen server or network cannot enforce its own statement timeout)
    "DATABASE_CLIENT_TIMEOUT_S": 18,
}
SQLITE_BUSY_TIMEOUT_MS = TIMEOUTS["SQLITE_BUSY_TIMEOUT_MS"]

_WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
_MODE = "floorplan.sqlite_transaction"  #: connection.info key: "deferred" or "immediate"


def timeouts(config: Mapping[str, Any]) -> dict[str, int]:
    """The timeouts in effect: the defaults above, overridden by the app's settings."""
    return {name: int(config.get(name, default)) for name, default in TIMEOUTS.items()}


def engine_options(
    url: str, configured: dict[str, Any] | None = None, limits: Mapping[str, int] = TIMEOUTS
) -> dict[str, Any]:
    """SQLAlchemy engine options: no SQL parameters in errors or logs, and server timeouts."""
    options: dict[str, Any] = {"pool_pre_ping": True, **(configured or {})}
    # Patient names and birth dates travel as parameters; an error message must never carry them.
    options["hide_parameters"] = True
    if url.startswith("postgresql"):
        # The ping happens in a checkout listener under the watchdog instead (see watch_server).
        options["pool_pre_ping"] = False
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", limits["DATABASE_CONNECT_TIMEOUT_S"])
        server = (
            f"-c statement_timeout={limits['DATABASE_STATEMENT_TIMEOUT_MS']} "
            f"-c lock_timeout={limits['DATABASE_LOCK_TIMEOUT_MS']} "
            "-c idle_in_transaction_session_timeout="
            f"{limits['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS']}"
        )
        # connect_args replace the URL's own options (a search_path, say): keep both.
        from_url = sa.engine.make_url(url).query.get("options", "")
        if isinstance(from_url, tuple):
            from_url = " ".join(from_url)
        existing = connect_args.get("options", from_url)
        connect_args["options"] = f"{existing} {server}".strip()
        # A server that vanishes without closing the connection is noticed by the kernel too.
        connect_args.setdefault("keepalives", 1)
        connect_args.setdefault("keepalives_idle", 10)
        connect_args.setdefault("keepalives_interval", 3)
        connect_args.setdefault("keepalives_count", 3)
        options["connect_args"] = connect_args
    return options


class _Watchdog:
    """Cuts the socket of a PostgreSQL connection whose server has not answered in time.

    statement_timeout is enforced by the server; a frozen server (or a network that drops
    packets) enforces nothing, and the worker would wait until gunicorn kills it. Shutting the
    socket down makes the waiting call fail at once with an OperationalError instead.
    """

    def __init__(self) -> None:
        self.armed: dict[int, tuple[float, Any]] = {}
        self.lock = threading.Lock()
        self.pid = 0

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        if self.pid != os.getpid():  # first use in this (forked) process: start the thread
            self.pid = os.getpid()
            threading.Thread(target=self._run, name="db-watchdog", daemon=True).start()
        with self.lock:
            self.armed[id(dbapi_connection)] = (time.monotonic() + seconds, dbapi_connection)

    def disarm(self, dbapi_connection: Any) -> None:
        with self.lock:
            self.armed.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self.lock:
                late = [k for k, (deadline, _c) in self.armed.items() if deadline < now]
                cut = [self.armed.pop(k)[1] for k in late]
            for dbapi_connection in cut:
                _cut(dbapi_connection)


def _cut(dbapi_connection: Any) -> None:
    try:
        fd = dbapi_connection.fileno()
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError, AttributeError, psycopg_errors()):
        pass  # already closed


def psycopg_errors() -> type[BaseException]:
    """psycopg's base error, or a never-raised stand-in when psycopg is not installed."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return LookupError
    return psycopg.Error


_WATCHDOG = _Watchdog()


def watch_server(engine: Engine, seconds: float) -> None:
    """PostgreSQL: ping on checkout and cut any statement, commit or ping the server sits on."""
    if engine.dialect.name != "postgresql" or seconds <= 0:
        return

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        _WATCHDOG.arm(dbapi_connection, seconds)
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()  # hand the connection over outside any transaction
        except Exception as error:
            # The pool throws this connection away and makes a new one (connect_timeout).
            raise sa.exc.DisconnectionError(
                str(error).splitlines()[0] if str(error) else ""
            ) from None
        finally:
            _WATCHDOG.disarm(dbapi_connection)

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(connection: Connection, *_args: Any) -> None:
        _WATCHDOG.arm(connection.connection.dbapi_connection, seconds)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _arm_end(connection: Connection) -> None:
        _WATCHDOG.arm(connection.connection.dbapi_connection, seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(connection: Connection, *_args: Any) -> None:
        _WATCHDOG.disarm(connection.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _disarm_on_error(context: Any) -> None:
        if context.connection is not None and not context.connection.invalidated:
            dbapi_connection = context.connection.connection.dbapi_connection
            if dbapi_connection is not None:
                _WATCHDOG.disarm(dbapi_connection)

    @event.listens_for(engine, "reset")
    def _arm_reset(dbapi_connection: Any, _record: Any, _state: Any) -> None:
        _WATCHDOG.arm(dbapi_connection, seconds)

    @event.listens_for(engine, "checkin")
    def _disarm_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            _WATCHDOG.disarm(dbapi_connection)


# --- what went wrong ------------------------------------------------------------------------

_FULL = ("database or disk is full", "no space left on device", "disk full")
_SQLITE_UNAVAILABLE = ("database is locked", "no write lock", "unable to open", "disk i/o error")


def is_storage_full(error: BaseException) -> bool:
    """The database could not store a write for lack of disk space (SQLite or PostgreSQL)."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in ("53100", "53400"):  # disk_full, config limit
        return True
    return any(text in str(error.orig).lower() for text in _FULL)


def is_unavailable(error: BaseException) -> bool:
    """The database is down, unreachable, too slow or too busy (as opposed to a bug)."""
    if isinstance(error, sa.exc.TimeoutError | sa.exc.DisconnectionError):
        return True
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error.orig, sqlite3.Error):
            # SQLite raises OperationalError for mistakes in SQL too ("no such column"): only
            # these mean the database cannot serve right now.
            text = str(error.orig).lower()
            return any(cause in text for cause in _SQLITE_UNAVAILABLE)
        if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
            return True
        # query_canceled (statement_timeout), lock_not_available (lock_timeout)
        return getattr(error.orig, "sqlstate", None) in ("57014", "55P03", "57P01", "57P03")
    return False


def one_line(error: BaseException) -> str:
    """An error's first line, for a log line (parameters are hidden by the engine options)."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


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
        mode = connection.info.get(_MODE)
        if mode == "failed" or (mode == "deferred" and _is_write(statement)):
            _switch_to_immediate(connection, cursor)

    @event.listens_for(engine, "savepoint")
    def _before_savepoint(connection: Connection, _name: Any) -> None:
        # A savepoint only exists to be written under; and switching later would release it.
        if connection.info.get(_MODE) in ("deferred", "failed"):
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
    if connection.info.get(_MODE) == "failed":
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, _LockLost("no write lock"))
    cursor.execute("COMMIT")
    try:
        cursor.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        # Outside any transaction now: nothing may run until SQLAlchemy rolls back.
        connection.info[_MODE] = "failed"
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from None
    connection.info[_MODE] = "immediate"


class _LockLost(sqlite3.OperationalError):
    """A statement after a failed BEGIN IMMEDIATE, refused until the transaction ends."""


def begin_write(connection: Connection) -> None:
    """Take SQLite's write lock now, before reads that a write depends on (the audit chain)."""
    if connection.dialect.name == "sqlite" and connection.info.get(_MODE) in ("deferred", "failed"):
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


#: No list has this many pages: a larger page number would make an OFFSET past the database's
#: 64-bit integers (an OverflowError on SQLite, an error on PostgreSQL), so it is clamped first.
MAX_PAGE = 10**9


def paginate(stmt: sa.Select[Any], page: int, per_page: int) -> Pagination:
    """One page of a select; a page past the end is clamped to the last page."""
    page = min(max(1, page), MAX_PAGE)
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if result.page > 1 and result.page > result.pages:
        result = db.paginate(stmt, page=max(1, result.pages), per_page=per_page, error_out=False)
    return result


def upsert_insert(table: sa.Table, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """An INSERT on `table` that takes ON CONFLICT (the two databases we run on spell it alike)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"FloorPlan needs PostgreSQL or SQLite, not {dialect}.")
