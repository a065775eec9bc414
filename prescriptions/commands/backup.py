"""Backup and restore of the whole database (SECURITY.md, Records and durability).

Two formats:

- portable JSON Lines (gzip-compressed when the file name ends in `.gz`), for any database and
  for moving between SQLite and PostgreSQL: a header line, then per table a line naming its
  columns and their encodings followed by one JSON array per row, then a trailer with the row
  counts (a truncated file is refused). Dates, timestamps and bytes are encoded explicitly.
- on SQLite, a `.sqlite` file made with SQLite's online backup API: a consistent copy of the
  live file while the service keeps running. `restore` reads such a copy back into any database.

A restore goes only into an empty database with the current schema, in one transaction.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..extensions import db

FORMAT = "floorplan-backup"
FORMAT_VERSION = 1
BATCH = 1000
SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Summary:
    """What a backup wrote or a restore read: rows per table, in dependency order."""

    path: str
    kind: str  #: "json", "json.gz" or "sqlite"
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def describe(self) -> str:
        """One line for the audit trail and the terminal."""
        return f"{self.path} ({self.kind}, {self.total:,} rows in {len(self.rows)} tables)"


# --- value encoding -------------------------------------------------------------------------


def encoding_of(column: sa.Column[Any]) -> str:
    """How a column's values are written: plain JSON, or an explicit text encoding."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return "datetime"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.LargeBinary):
        return "base64"
    if isinstance(kind, sa.JSON):
        return "json"
    if isinstance(kind, sa.Integer | sa.String | sa.Boolean | sa.Float):
        return "plain"
    raise BackupError(f"No backup encoding for {column.table.name}.{column.name} ({kind!r}).")


def encode_value(value: Any, encoding: str) -> Any:
    """A column value as JSON."""
    if value is None:
        return None
    if encoding in ("datetime", "date"):
        return value.isoformat()
    if encoding == "base64":
        return base64.b64encode(value).decode("ascii")
    return value


def decode_value(value: Any, encoding: str) -> Any:
    """A JSON value back as the column's Python value."""
    if value is None:
        return None
    if encoding == "datetime":
        return datetime.fromisoformat(value)
    if encoding == "date":
        return date.fromisoformat(value)
    if encoding == "base64":
        return base64.b64decode(value)
    return value


# --- reading the database -------------------------------------------------------------------


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before children."""
    return list(db.metadata.sorted_tables)


def _ordered(table: sa.Table) -> sa.Select[Any]:
    # Primary-key order puts a revised plan before its revision (plan.revises_id).
    return sa.select(table).order_by(*table.primary_key.columns)


def _schema_revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """A read-only connection that sees one consistent state of every table."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        # The app's engine begins every transaction IMMEDIATE (taking the write lock). A
        # private engine with a plain deferred BEGIN reads a WAL snapshot and blocks no writer.
        private = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)

        @sa.event.listens_for(private, "connect")
        def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(private, "begin")
        def _deferred_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN")

        try:
            with private.connect() as connection, connection.begin():
                yield connection
        finally:
            private.dispose()
        return
    with (
        engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as connection,
        connection.begin(),
    ):
        yield connection


def _stream_rows(connection: Connection, table: sa.Table) -> Iterator[Sequence[Any]]:
    result = connection.execution_options(yield_per=BATCH).execute(_ordered(table))
    yield from result


# --- writing a backup -----------------------------------------------------------------------


def _open_text(path: Path, mode: str, *, compressed: bool) -> IO[str]:
    if compressed:
        return gzip.open(path, mode + "t", encoding="utf-8", compresslevel=6)
    return path.open(mode, encoding="utf-8")


def _line(out: IO[str], value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")


def write_backup(path: str | os.PathLike[str]) -> Summary:
    """Back the database up to a new file; `.sqlite` uses SQLite's online backup API."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name (nothing written).")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".partial")
    try:
        if target.name.endswith(".sqlite"):
            summary = _sqlite_copy(partial, str(target))
        else:
            summary = _json_dump(partial, str(target))
        # Only a complete file ever carries the name asked for.
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def _json_dump(partial: Path, name: str) -> Summary:
    compressed = name.endswith(".gz")
    summary = Summary(name, "json.gz" if compressed else "json")
    with _snapshot() as connection, _open_text(partial, "w", compressed=compressed) as out:
        _line(
            out,
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(),
                "source": connection.dialect.name,
                "schema_revision": _schema_revision(connection),
                "tables": [t.name for t in tables()],
            },
        )
        for table in tables():
            encodings = [encoding_of(c) for c in table.columns]
            _line(
                out,
                {
                    "table": table.name,
                    "columns": [c.name for c in table.columns],
                    "encodings": encodings,
                },
            )
            count = 0
            for row in _stream_rows(connection, table):
                _line(out, [encode_value(v, e) for v, e in zip(row, encodings, strict=True)])
                count += 1
            summary.rows[table.name] = count
        _line(out, {"end": True, "rows": summary.rows})
    return summary


def _sqlite_copy(partial: Path, name: str) -> Summary:
    engine = db.engine
    source_path = engine.url.database
    if engine.dialect.name != "sqlite" or not source_path or source_path == ":memory:":
        raise BackupError(
            "A .sqlite backup copies an SQLite database file; this server's database is "
            f"{engine.dialect.name}. Use a .json.gz file name for a portable backup."
        )
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        # One self-contained file: no -wal or -shm beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        rows = {t.name: _sqlite_count(copy, t.name) for t in tables()}
    finally:
        copy.close()
        source.close()
    return Summary(name, "sqlite", rows)


def _sqlite_count(connection: sqlite3.Connection, table: str) -> int:
    # The name is one of our own tables (from the models' metadata), quoted; never user input.
    quoted = '"' + table.replace('"', '""') + '"'
    sql = f"SELECT count(*) FROM {quoted}"  # noqa: S608  # nosec B608
    return int(connection.execute(sql).fetchone()[0])


# --- restoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TablePart:
    table: sa.Table
    rows: Iterator[dict[str, Any]]


def restore_backup(path: str | os.PathLike[str]) -> Summary:
    """Load a backup into this empty database in one transaction; ids continue after it."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    with source.open("rb") as probe:
        is_sqlite = probe.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    _check_empty()
    if is_sqlite:
        return _restore_parts(Summary(str(source), "sqlite"), _sqlite_parts(source))
    compressed = _is_gzip(source)
    kind = "json.gz" if compressed else "json"
    with _open_text(source, "r", compressed=compressed) as lines:
        return _restore_parts(Summary(str(source), kind), _json_parts(lines))


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == GZIP_MAGIC


def _check_empty() -> None:
    connection = db.session.connection()
    existing = set(sa.inspect(connection).get_table_names())
    missing = [t.name for t in tables() if t.name not in existing]
    if missing:
        raise BackupError(
            "This database has no FloorPlan schema yet (missing: "
            f"{', '.join(missing)}). Run `flask --app app db upgrade` first, then restore."
        )
    filled = [
        t.name
        for t in tables()
        if connection.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
    ]
    if filled:
        raise BackupError(
            "Restore only goes into an empty database, and this one has data "
            f"(in {', '.join(filled)}). Point FLOORPLAN_SQLALCHEMY_DATABASE_URI at a new, "
            "empty database (created with `flask --app app db upgrade`) and run restore again."
        )


def _restore_parts(summary: Summary, parts: Iterator[_TablePart]) -> Summary:
    connection = db.session.connection()
    try:
        for part in parts:
            count = 0
            batch: list[dict[str, Any]] = []
            for row in part.rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    connection.execute(sa.insert(part.table), batch)
                    count += len(batch)
                    batch = []
            if batch:
                connection.execute(sa.insert(part.table), batch)
                count += len(batch)
            summary.rows[part.table.name] = count
        _reset_sequences(connection)
    except (sa.exc.IntegrityError, sa.exc.DataError) as error:
        db.session.rollback()
        raise BackupError(f"The backup's rows do not fit this database: {error.orig}") from None
    except BaseException:
        db.session.rollback()
        raise
    return summary


def _reset_sequences(connection: Connection) -> None:
    """On PostgreSQL, let new ids continue after the restored ones (rows came with their ids)."""
    if connection.dialect.name != "postgresql":
        return  # SQLite picks max(rowid) + 1 by itself
    quote = connection.dialect.identifier_preparer.quote
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        name = quote(table.name)
        last = connection.execute(sa.select(sa.func.max(keys[0]))).scalar()
        # is_called=false on an empty table, so the next id is 1 again
        connection.execute(
            sa.text("SELECT setval(pg_get_serial_sequence(:table, :column), :value, :called)"),
            {"table": name, "column": keys[0].name, "value": last or 1, "called": last is not None},
        )


@dataclass
class _Reader:
    """Where the line-by-line reading of a JSON backup stands."""

    lines: IO[str]
    pending: dict[str, Any] | None = None  #: the table or trailer line after a table's rows
    counts: dict[str, int] = field(default_factory=dict)


def _json_parts(lines: IO[str]) -> Iterator[_TablePart]:
    header = _read_line(lines)
    if header is None:
        raise BackupError("The backup file is empty.")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("This file is not a FloorPlan backup.")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"This backup is format version {header.get('version')}; this FloorPlan reads "
            f"version {FORMAT_VERSION}. Restore it with the FloorPlan version that wrote it."
        )
    _check_revision(header.get("schema_revision"))
    known = {t.name: t for t in tables()}
    if sorted(header.get("tables", [])) != sorted(known):
        raise BackupError(
            "The backup's tables do not match this FloorPlan's schema "
            f"(backup: {', '.join(header.get('tables', []))})."
        )
    reader = _Reader(lines, pending=_read_line(lines))
    while reader.pending is not None and not _is_trailer(reader.pending):
        line = reader.pending
        if not isinstance(line, dict) or line.get("table") not in known:
            raise BackupError("The backup is damaged: rows without a known table.")
        table = known[line["table"]]
        columns: list[str] = line["columns"]
        _check_columns(table, columns)
        encodings = [encoding_of(table.c[name]) for name in columns]
        if line.get("encodings") != encodings:
            raise BackupError(f"The backup encodes {table.name} differently from this schema.")
        yield _TablePart(table, _json_rows(reader, table.name, columns, encodings))
        if table.name not in reader.counts:
            raise BackupError(f"The rows of {table.name} were not all read.")
    if reader.pending is None:
        raise BackupError("The backup ends early (no trailer line): it is incomplete.")
    if reader.pending.get("rows") != reader.counts:
        raise BackupError("The backup's rows do not match the counts in its trailer.")


def _is_trailer(line: Any) -> bool:
    return isinstance(line, dict) and line.get("end") is True


def _json_rows(
    reader: _Reader, table: str, columns: list[str], encodings: list[str]
) -> Iterator[dict[str, Any]]:
    count = 0
    reader.pending = None
    for raw in reader.lines:
        value = _parse(raw)
        if isinstance(value, dict):
            reader.pending = value
            break
        if not isinstance(value, list) or len(value) != len(columns):
            raise BackupError(f"The backup is damaged: a {table} row has the wrong shape.")
        count += 1
        yield {c: decode_value(v, e) for c, v, e in zip(columns, value, encodings, strict=True)}
    reader.counts[table] = count


def _parse(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise BackupError(f"The backup is damaged (unreadable line: {error.msg}).") from None


def _read_line(lines: IO[str]) -> Any:
    raw = lines.readline()
    return _parse(raw) if raw else None


def _check_columns(table: sa.Table, columns: list[str]) -> None:
    have = [c.name for c in table.columns]
    if sorted(columns) != sorted(have):
        extra = sorted(set(columns) - set(have))
        lacking = sorted(set(have) - set(columns))
        raise BackupError(
            f"The backup's {table.name} table differs from this schema "
            f"(only in the backup: {extra or 'none'}; only here: {lacking or 'none'})."
        )


def _check_revision(revision: str | None) -> None:
    here = _schema_revision(db.session.connection())
    if revision and here and revision != here:
        raise BackupError(
            f"The backup was made at schema revision {revision}, this database is at {here}. "
            "Restore into a database migrated to the backup's revision, then upgrade it."
        )


def _sqlite_parts(path: Path) -> Iterator[_TablePart]:
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            existing = set(sa.inspect(connection).get_table_names())
            missing = [t.name for t in tables() if t.name not in existing]
            if missing:
                raise BackupError(
                    f"{path} is not a FloorPlan database (no {', '.join(missing)} table)."
                )
            _check_revision(_schema_revision(connection))
            for table in tables():
                present = {c["name"] for c in sa.inspect(connection).get_columns(table.name)}
                _check_columns(table, sorted(present))
                columns = [c.name for c in table.columns]
                rows = (
                    dict(zip(columns, row, strict=True)) for row in _stream_rows(connection, table)
                )
                yield _TablePart(table, rows)
    finally:
        engine.dispose()
