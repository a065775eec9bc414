"""Backup and restore of the whole database (SECURITY.md, Records and durability).

Two formats:

- portable JSON Lines (gzip-compressed when the file name ends in `.gz`), for any database and
  for moving between SQLite and PostgreSQL: a header line, then per table a line naming its
  columns and their encodings followed by one JSON array per row, then a trailer with the row
  counts (a truncated file is refused). Dates, timestamps and bytes are encoded explicitly.
- on SQLite, a `.sqlite` file made with SQLite's online backup API: a consistent copy of the
  live file while the service keeps running. `restore` reads such a copy back into any database.

Every JSON backup carries the audit checkpoint (each chain's length and newest hash) in its
header and an HMAC of its lines (keyed by the audit key) in its trailer; every backup also leaves
`FILE.checkpoint.json` beside it, for the operator to keep elsewhere.

A restore goes only into an empty database with the current schema, in one transaction. It
checks every row (types, lengths, foreign keys, clinic consistency), the file's signature and the
audit chain against its checkpoint before it commits; anything wrong and nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import errno
import gzip
import hashlib
import hmac
import json
import os
import re
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..audit import (
    ChainHead,
    audit_key,
    checkpoint_from_json,
    checkpoint_to_json,
    take_checkpoint,
    verify_all,
)
from ..database import is_storage_full
from ..extensions import db
from ..models import AuditEvent, User
from ..programmes.operations import refresh_block_sums

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
    #: why the restored audit trail could not be verified (restored anyway on request)
    unverified: str | None = None

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
        # A private engine with a plain deferred BEGIN that never turns IMMEDIATE: it reads one
        # WAL snapshot and blocks no writer.
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

CHECKPOINT_SUFFIX = ".checkpoint.json"


class _Signer:
    """A running HMAC (keyed by the audit key) over the lines of a backup."""

    def __init__(self, key: bytes) -> None:
        self.mac = hmac.new(key, b"floorplan-backup", hashlib.sha256)

    def add(self, text: str) -> None:
        self.mac.update(text.encode("utf-8"))

    def matches(self, signature: Any) -> bool:
        return isinstance(signature, str) and hmac.compare_digest(self.mac.hexdigest(), signature)


def _open_text(path: Path, mode: str, *, compressed: bool) -> IO[str]:
    if compressed:
        return gzip.open(path, mode + "t", encoding="utf-8", compresslevel=6)
    return path.open(mode, encoding="utf-8")


def _line(out: IO[str], value: Any, signer: _Signer | None = None) -> None:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    out.write(text)
    if signer is not None:
        signer.add(text)


def _no_space(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return "disk is full" in str(error) or "disk full" in str(error)


def write_backup(path: str | os.PathLike[str]) -> Summary:
    """Back the database up to a new file; `.sqlite` uses SQLite's online backup API."""
    target = Path(path)
    side = target.with_name(target.name + CHECKPOINT_SUFFIX)
    for existing in (target, side):
        if existing.exists():
            raise BackupError(
                f"{existing} already exists; choose a new file name (nothing written)."
            )
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".partial")
    side_partial = side.with_name(side.name + ".partial")
    try:
        if target.name.endswith(".sqlite"):
            summary, checkpoint = _sqlite_copy(partial, str(target))
        else:
            summary, checkpoint = _json_dump(partial, str(target))
        side_partial.write_text(json.dumps(checkpoint, indent=1) + "\n", encoding="utf-8")
        # Only a complete file ever carries the name asked for.
        os.replace(partial, target)
        os.replace(side_partial, side)
    except (OSError, sqlite3.OperationalError) as error:
        if _no_space(error):
            raise BackupError(
                f"The disk holding {target.parent} is full: the backup was not written (the "
                "partial file was removed). Free some space or back up to another disk."
            ) from None
        if isinstance(error, OSError):
            raise BackupError(
                f"Could not write {target}: {error.strerror or error} (nothing written)."
            ) from None
        raise
    finally:
        partial.unlink(missing_ok=True)
        side_partial.unlink(missing_ok=True)
    return summary


def _checkpoint_of(connection: Connection) -> dict[str, Any]:
    """The audit checkpoint as this connection sees it."""
    return checkpoint_to_json(take_checkpoint(connection), datetime.now(UTC).isoformat())


def _json_dump(partial: Path, name: str) -> tuple[Summary, dict[str, Any]]:
    compressed = name.endswith(".gz")
    summary = Summary(name, "json.gz" if compressed else "json")
    signer = _Signer(audit_key())
    with _snapshot() as connection, _open_text(partial, "w", compressed=compressed) as out:
        checkpoint = _checkpoint_of(connection)
        checkpoint["backup"] = Path(name).name
        _line(
            out,
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(),
                "source": connection.dialect.name,
                "schema_revision": _schema_revision(connection),
                "tables": [t.name for t in tables()],
                "audit_checkpoint": checkpoint,
            },
            signer,
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
                signer,
            )
            count = 0
            for row in _stream_rows(connection, table):
                values = [encode_value(v, e) for v, e in zip(row, encodings, strict=True)]
                _line(out, values, signer)
                count += 1
            summary.rows[table.name] = count
        _line(out, {"end": True, "rows": summary.rows, "hmac": signer.mac.hexdigest()})
    return summary, checkpoint


def _file_mac(path: Path) -> str:
    signer = hmac.new(audit_key(), b"floorplan-backup-file", hashlib.sha256)
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            signer.update(chunk)
    return signer.hexdigest()


def _sqlite_copy(partial: Path, name: str) -> tuple[Summary, dict[str, Any]]:
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
    private = sa.create_engine(
        f"sqlite:///file:{partial}?mode=ro&uri=true", poolclass=sa.pool.NullPool
    )
    try:
        with private.connect() as connection:
            checkpoint = _checkpoint_of(connection)
    finally:
        private.dispose()
    checkpoint["backup"] = Path(name).name
    checkpoint["file_hmac"] = _file_mac(partial)
    return Summary(name, "sqlite", rows), checkpoint


def _sqlite_count(connection: sqlite3.Connection, table: str) -> int:
    sql = f"SELECT count(*) FROM {_quote(table)}"  # noqa: S608  # nosec B608
    return int(connection.execute(sql).fetchone()[0])


def _quote(name: str) -> str:
    # Names are our own tables and columns (from the models' metadata), quoted; never user input.
    return '"' + name.replace('"', '""') + '"'


def read_checkpoint_file(path: str | os.PathLike[str]) -> dict[int | None, ChainHead]:
    """An audit checkpoint kept in a file (a backup's FILE.checkpoint.json or a saved print)."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
        return checkpoint_from_json(value)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise BackupError(f"{path} is not a readable audit checkpoint ({error}).") from None


# --- restoring ------------------------------------------------------------------------------

ACCEPT_FLAG = "--accept-broken-chain"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class _TablePart:
    table: sa.Table
    rows: Iterator[dict[str, Any]]


@dataclass
class _Trust:
    """What the restored data can be checked against once every row is in."""

    checkpoint: dict[int | None, ChainHead] | None = None
    problems: list[str] = field(default_factory=list)  #: signature and checkpoint problems


def restore_backup(path: str | os.PathLike[str], *, accept_broken_chain: bool = False) -> Summary:
    """Load a backup into this empty database in one transaction; ids continue after it.

    Every row is checked first; the signature and the audit chain (against the backup's
    checkpoint) are checked before the commit, and a problem with them refuses the file unless
    `accept_broken_chain`, when it is returned in `Summary.unverified` for the audit trail.
    """
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    with source.open("rb") as probe:
        start = probe.read(len(SQLITE_MAGIC))
    _check_empty()
    trust = _Trust()
    try:
        if start == SQLITE_MAGIC:
            summary = Summary(str(source), "sqlite")
            _restore_parts(summary, _sqlite_parts(source, trust))
        else:
            compressed = start[:2] == GZIP_MAGIC
            summary = Summary(str(source), "json.gz" if compressed else "json")
            with _open_text(source, "r", compressed=compressed) as lines:
                _restore_parts(summary, _json_parts(lines, trust))
        _check_accounts()
        refresh_block_sums()  # derived from the restored days: a backup's own sums may be forged
        broken, _heads = verify_all(audit_key(), trust.checkpoint)
        if broken is not None:
            trust.problems.append(
                f"the restored audit trail does not verify ({broken.describe()}): the backup "
                "was changed, or this server's audit key (FLOORPLAN_AUDIT_KEY, else derived "
                "from FLOORPLAN_SECRET_KEY) differs from the one that made it"
            )
        if trust.problems and not accept_broken_chain:
            raise BackupError(
                f"Refused: {trust.problems[0]}. Restore with the same keys as the server that "
                f"made the backup, or pass {ACCEPT_FLAG} to restore it anyway (the break is "
                "then recorded in the audit trail)."
            )
    except (OSError, sa.exc.DBAPIError) as error:
        db.session.rollback()
        if is_storage_full(error):
            raise BackupError(
                "The disk holding this database is full: free some space and restore again."
            ) from None
        if isinstance(error, OSError):
            raise BackupError(f"Could not read {source}: {error.strerror or error}.") from None
        raise
    except BaseException:
        db.session.rollback()
        raise
    summary.unverified = "; ".join(trust.problems) or None
    return summary


def _check_empty() -> None:
    connection = db.session.connection()
    existing = set(sa.inspect(connection).get_table_names())
    missing = [t.name for t in tables() if t.name not in existing]
    if missing and _schema_revision(connection) is None:
        raise BackupError(
            "This database has no FloorPlan schema yet (missing: "
            f"{', '.join(missing)}). Run `flask --app app db upgrade` first, then restore."
        )
    # A schema at an older revision lacks a newer table: the backup's revision check then says
    # which revision to migrate to.
    filled = [
        t.name
        for t in tables()
        if t.name in existing
        and connection.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
    ]
    if filled:
        raise BackupError(
            "Restore only goes into an empty database, and this one has data "
            f"(in {', '.join(filled)}). Point FLOORPLAN_SQLALCHEMY_DATABASE_URI at a new, "
            "empty database (created with `flask --app app db upgrade`) and run restore again."
        )


def _check_accounts() -> None:
    """Every restored account has its creation in its clinic's audit trail (none slipped in)."""
    created = (
        sa.select(AuditEvent.id)
        .where(
            AuditEvent.action == "user.create",
            AuditEvent.record_type == User.__tablename__,
            AuditEvent.record_id == User.id,
            AuditEvent.clinic_id == User.clinic_id,
        )
        .exists()
    )
    stray = db.session.execute(sa.select(User.id, User.email).where(~created).limit(1)).first()
    if stray is not None:
        raise BackupError(
            f"The backup's account {stray.id} ({stray.email}) has no record of its creation "
            "in the audit trail: it was added to the file afterwards."
        )


def _restore_parts(summary: Summary, parts: Iterator[_TablePart]) -> None:
    connection = db.session.connection()
    checker = _RowChecker()
    for part in parts:
        count = 0
        batch: list[dict[str, Any]] = []
        try:
            for row in part.rows:
                batch.append(checker.check(part.table, row))
                if len(batch) >= BATCH:
                    connection.execute(sa.insert(part.table), batch)
                    count += len(batch)
                    batch = []
            if batch:
                connection.execute(sa.insert(part.table), batch)
                count += len(batch)
        except (sa.exc.IntegrityError, sa.exc.DataError) as error:
            raise BackupError(
                f"The backup's {part.table.name} rows do not fit this database: "
                f"{str(error.orig).splitlines()[0]}"
            ) from None
        checker.finish(part.table)
        summary.rows[part.table.name] = count
    _reset_sequences(connection)


class _RowChecker:
    """Checks each row's values, foreign keys and clinic against the rows restored before it."""

    def __init__(self) -> None:
        self.keys: dict[str, set[Any]] = {}
        self.clinic_of: dict[str, dict[Any, int | None]] = {}
        self.pending: list[tuple[str, str, Any, Any]] = []  #: self-references, checked at the end

    def check(self, table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
        """The row with its values checked and converted, or BackupError naming what is wrong."""
        key_column = next(iter(table.primary_key.columns))
        ident = row.get(key_column.name)
        label = f"{table.name} row {ident!r}"
        values = {c.name: _checked_value(label, c, row[c.name]) for c in table.columns}
        ident = values[key_column.name]
        clinic = values.get("clinic_id")
        parents: list[tuple[str, Any]] = []
        for column in table.columns:
            for fk in column.foreign_keys:
                value = values[column.name]
                if value is None:
                    continue
                target = fk.column.table.name
                if target == table.name:
                    self.pending.append((label, column.name, value, clinic))
                    continue
                if value not in self.keys.get(target, ()):
                    raise BackupError(
                        f"The backup's {label} points to {target} {value!r} ({column.name}), "
                        "which is not in the backup."
                    )
                parents.append((column.name, self.clinic_of[target].get(value)))
        if "clinic_id" not in table.c:
            clinic = next((c for _name, c in parents if c is not None), None)
        for name, parent_clinic in parents:
            if parent_clinic is not None and clinic is not None and parent_clinic != clinic:
                raise BackupError(
                    f"The backup's {label} belongs to clinic {clinic}, but what its {name} "
                    f"points to belongs to clinic {parent_clinic}: rows were moved between "
                    "clinics."
                )
        if table.name == "clinic":
            clinic = ident
        self.keys.setdefault(table.name, set()).add(ident)
        self.clinic_of.setdefault(table.name, {})[ident] = clinic
        return values

    def finish(self, table: sa.Table) -> None:
        """Check the table's references to its own rows, now that all of them are in."""
        for label, name, value, clinic in self.pending:
            if value not in self.keys.get(table.name, ()):
                raise BackupError(
                    f"The backup's {label} points to {table.name} {value!r} ({name}), which is "
                    "not in the backup."
                )
            other = self.clinic_of[table.name].get(value)
            if clinic is not None and other is not None and other != clinic:
                raise BackupError(
                    f"The backup's {label} belongs to clinic {clinic}, but its {name} points to "
                    f"clinic {other}: rows were moved between clinics."
                )
        self.pending = []


def _checked_value(label: str, column: sa.Column[Any], value: Any) -> Any:
    """A raw value (decoded JSON or SQLite's storage) as the column's Python value."""
    if value is None:
        if not column.nullable and not column.primary_key:
            raise BackupError(f"The backup's {label} has no {column.name}, which is required.")
        return value
    kind = column.type

    def wrong(expected: str) -> BackupError:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        return BackupError(
            f"The backup's {label} has {shown} in {column.name}, which holds {expected}."
        )

    try:
        if isinstance(kind, sa.Boolean):
            if isinstance(value, bool):
                return value
            if type(value) is int and value in (0, 1):  # SQLite stores booleans as 0 and 1
                return bool(value)
            raise wrong("true or false")
        if isinstance(kind, sa.Integer):
            if type(value) is not int or not _INT32[0] <= value <= _INT32[1]:
                raise wrong("a whole number")
            return value
        if isinstance(kind, sa.Float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise wrong("a number")
            return float(value)
        if isinstance(kind, sa.DateTime):
            if not isinstance(value, str):
                raise wrong("a timestamp")
            return datetime.fromisoformat(value)
        if isinstance(kind, sa.Date):
            if not isinstance(value, str) or not _DATE.match(value):
                raise wrong("a date (YYYY-MM-DD)")
            return date.fromisoformat(value)
        if isinstance(kind, sa.LargeBinary):
            if isinstance(value, bytes):
                return value
            if not isinstance(value, str):
                raise wrong("bytes")
            return base64.b64decode(value, validate=True)
        if isinstance(kind, sa.JSON):
            if isinstance(value, _JsonValue):  # from a JSON backup: parsed already
                return value.value
            return json.loads(value) if isinstance(value, str) else value
        if isinstance(kind, sa.String):
            if not isinstance(value, str) or "\x00" in value:
                raise wrong("text")
            if kind.length is not None and len(value) > kind.length:
                raise BackupError(
                    f"The backup's {label} has {len(value)} characters in {column.name}, "
                    f"which holds at most {kind.length}."
                )
            return value
    except (ValueError, binascii.Error, json.JSONDecodeError):
        raise wrong("another kind of value") from None
    raise BackupError(f"No restore check for {column.table.name}.{column.name} ({kind!r}).")


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
    signer: _Signer
    pending: dict[str, Any] | None = None  #: the table or trailer line after a table's rows
    counts: dict[str, int] = field(default_factory=dict)

    def read(self) -> Any:
        """The next line, parsed (None at the end); every line but the trailer is signed."""
        try:
            raw = self.lines.readline()
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise _damaged_gzip(error) from None
        except UnicodeDecodeError:
            raise BackupError("The backup is damaged (it is not UTF-8 text).") from None
        if not raw:
            return None
        if not raw.endswith("\n"):
            raise BackupError("The backup ends in the middle of a line: it is incomplete.")
        value = _parse(raw)
        if not _is_trailer(value):
            self.signer.add(raw)
        return value

    def rest_is_empty(self) -> bool:
        """Read to the end, so gzip checks its length and checksum; True when nothing follows."""
        try:
            return self.lines.read() == ""
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise _damaged_gzip(error) from None


def _damaged_gzip(error: BaseException) -> BackupError:
    if isinstance(error, EOFError):
        return BackupError("The compressed backup ends early (it was cut short): it is incomplete.")
    return BackupError(f"The compressed backup is damaged ({error}); its checksum does not match.")


def _json_parts(lines: IO[str], trust: _Trust) -> Iterator[_TablePart]:
    reader = _Reader(lines, _Signer(audit_key()))
    header = reader.read()
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
    if header.get("audit_checkpoint") is None:
        trust.problems.append("the backup carries no audit checkpoint")
    else:
        try:
            trust.checkpoint = checkpoint_from_json(header["audit_checkpoint"])
        except ValueError as error:
            raise BackupError(f"The backup's audit checkpoint is damaged ({error}).") from None
    reader.pending = reader.read()
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
        yield _TablePart(table, _json_rows(reader, table, columns, encodings))
        if table.name not in reader.counts:
            raise BackupError(f"The rows of {table.name} were not all read.")
    if reader.pending is None:
        raise BackupError("The backup ends early (no trailer line): it is incomplete.")
    if reader.pending.get("rows") != reader.counts:
        raise BackupError("The backup's rows do not match the counts in its trailer.")
    if not reader.rest_is_empty():
        raise BackupError("The backup has data after its trailer line: it was changed.")
    if not reader.signer.matches(reader.pending.get("hmac")):
        trust.problems.append(
            "the backup's signature does not match: it was changed after it was made, or this "
            "server's audit key (FLOORPLAN_AUDIT_KEY, else derived from FLOORPLAN_SECRET_KEY) "
            "differs from the one that made it"
        )


def _is_trailer(line: Any) -> bool:
    return isinstance(line, dict) and line.get("end") is True


def _json_rows(
    reader: _Reader, table: sa.Table, columns: list[str], encodings: list[str]
) -> Iterator[dict[str, Any]]:
    count = 0
    reader.pending = None
    while (value := reader.read()) is not None:
        if isinstance(value, dict):
            reader.pending = value
            break
        if not isinstance(value, list) or len(value) != len(columns):
            raise BackupError(f"The backup is damaged: a {table.name} row has the wrong shape.")
        count += 1
        row = dict(zip(columns, value, strict=True))
        yield {
            c: _JsonValue(row[c]) if e == "json" else row[c]
            for c, e in zip(columns, encodings, strict=True)
        }
    reader.counts[table.name] = count


class _JsonValue:
    """A JSON column's value as decoded from a JSON backup (never parsed a second time)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _parse(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise BackupError(f"The backup is damaged (unreadable line: {error.msg}).") from None


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
    connection = db.session.connection()
    here = _schema_revision(connection)
    if revision and here and revision != here:
        advice = "Restore into a database migrated to the backup's revision, then upgrade it"
        if connection.dialect.name == "sqlite":
            advice += (
                f" (on SQLite, with auto-migration off: FLOORPLAN_AUTO_MIGRATE=false flask --app "
                f"app db upgrade {revision}, then FLOORPLAN_AUTO_MIGRATE=false flask --app app "
                "restore FILE, then flask --app app db upgrade)"
            )
        raise BackupError(
            f"The backup was made at schema revision {revision}, this database is at {here}. "
            f"{advice}."
        )


def _sqlite_parts(path: Path, trust: _Trust) -> Iterator[_TablePart]:
    side = path.with_name(path.name + CHECKPOINT_SUFFIX)
    if side.is_file():
        try:
            saved = json.loads(side.read_text(encoding="utf-8"))
            trust.checkpoint = checkpoint_from_json(saved)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
            raise BackupError(f"{side} is not a readable audit checkpoint ({error}).") from None
        if not hmac.compare_digest(str(saved.get("file_hmac", "")), _file_mac(path)):
            trust.problems.append(
                f"the file does not match the signature in {side.name}: it was changed after "
                "it was made, or this server's audit key differs from the one that made it"
            )
    else:
        trust.problems.append(f"there is no {side.name} beside it to check it against")
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be opened as an SQLite database ({error}).") from None
    try:
        yield from _sqlite_tables(path, source)
    except sqlite3.DatabaseError as error:
        raise BackupError(
            f"{path} is a damaged SQLite database ({error}); restore an older backup."
        ) from None
    finally:
        source.close()


def _sqlite_tables(path: Path, source: sqlite3.Connection) -> Iterator[_TablePart]:
    check = source.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise BackupError(
            f"{path} is a damaged SQLite database ({check}); restore an older backup."
        )
    existing = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t.name for t in tables() if t.name not in existing]
    # A backup from an older revision lacks the newer tables: the revision check says what to do.
    if "alembic_version" in existing:
        _check_revision(source.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    if missing:
        raise BackupError(f"{path} is not a FloorPlan database (no {', '.join(missing)} table).")
    for table in tables():
        present = [r[1] for r in source.execute(f"PRAGMA table_info({_quote(table.name)})")]
        _check_columns(table, present)
        columns = [c.name for c in table.columns]
        order = ", ".join(_quote(c.name) for c in table.primary_key.columns)
        sql = (
            f"SELECT {', '.join(_quote(c) for c in columns)} "  # noqa: S608  # nosec B608
            f"FROM {_quote(table.name)} ORDER BY {order}"
        )
        rows = (dict(zip(columns, row, strict=True)) for row in source.execute(sql))
        yield _TablePart(table, rows)
