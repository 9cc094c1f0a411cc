"""Backups of the whole database, taken while it serves, and restoring one.

- SQLite: the online backup API copies a consistent snapshot page by page while other
  connections keep reading and writing; the copy is written beside the target and renamed
  into place, so a failed backup never leaves half a file under the requested name.
- PostgreSQL: `pg_dump` in its custom format (compressed; restorable table by table), and
  `pg_restore` into the configured database in one transaction, so a failed restore leaves
  the database as it was. Sequences travel with the dump (`setval`), so ids continue where the
  backup left them. The password goes to the programs through `PGPASSWORD`, never their
  command line, which other users of the machine can read.

A restore replaces every table the backup holds; run it with the servers stopped, then
`tenantry db upgrade` if the backup predates this release's schema.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import sqlalchemy as sa

from tenantry.services.ports import BackupError

# The first bytes of every SQLite database file and of every pg_dump custom-format archive.
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


def backup_database(url: str, target: Path) -> None:
    """Write a backup of the database at `url` to `target` (replaced when it exists)."""
    parsed = sa.make_url(url)
    target = target.expanduser().resolve()
    if not target.parent.is_dir():
        raise BackupError(f"No such folder: {target.parent}")
    with _written_atomically(target) as partial:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(parsed), partial)
        elif parsed.get_backend_name() == "postgresql":
            _run(parsed, "pg_dump", "--format=custom", "--no-owner", f"--file={partial}")
        else:
            raise BackupError(f"Backups of {parsed.get_backend_name()} are not supported.")


def restore_database(url: str, source: Path) -> None:
    """Replace the contents of the database at `url` with the backup in `source`."""
    parsed = sa.make_url(url)
    source = source.expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"No such file: {source}")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _check_kind(source, SQLITE_MAGIC, "an SQLite")
        _check_sqlite_backup(source)
        _sqlite_copy(source, _sqlite_path(parsed))
    elif backend == "postgresql":
        _check_kind(source, PG_DUMP_MAGIC, "a PostgreSQL (pg_dump custom format)")
        _run(
            parsed,
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            # Without a database to restore into, pg_restore would print the SQL instead.
            f"--dbname={parsed.database}",
            str(source),
        )
    else:
        raise BackupError(f"Restoring {backend} is not supported.")


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up or restore to.")
    return Path(url.database).expanduser().resolve()


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another through the online backup API."""
    if not source.is_file():
        raise BackupError(f"No such database: {source}")
    with (
        closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        try:
            src.backup(dst)
        except sqlite3.Error as error:
            raise BackupError(f"The SQLite backup failed: {error}") from None


def _check_sqlite_backup(source: Path) -> None:
    """Refuse a file that is an SQLite database but not one of ours (no migration record)."""
    with closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as conn:
        try:
            found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            found = None
    if found is None:
        raise BackupError(f"{source.name} is not a tenantry backup (it has no schema version).")


def _check_kind(source: Path, magic: bytes, kind: str) -> None:
    with source.open("rb") as file:
        if file.read(len(magic)) != magic:
            raise BackupError(f"{source.name} is not {kind} backup.")


def _run(url: sa.URL, program: str, *args: str) -> None:
    """Run a PostgreSQL client program against the database at `url`."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"`{program}` is not installed (Debian: apt-get install postgresql-client)."
        )
    env = {**os.environ, **_libpq_environment(url)}
    # The program is the installed one and every argument is ours (the file is the operator's).
    done = subprocess.run(  # noqa: S603
        [executable, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{program} failed: {lines[-1] if lines else done.returncode}")


def _libpq_environment(url: sa.URL) -> dict[str, str]:
    """The connection as libpq's environment variables, the password included."""
    values = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password if isinstance(url.password, str) else None,
        "PGDATABASE": url.database,
    }
    return {name: value for name, value in values.items() if value}


@contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it when the block succeeds."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
