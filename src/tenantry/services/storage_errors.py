"""What storage raises that services and faces must tell apart from a bug."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """The database could not be reached (refused, unknown host, wrong credentials, a file
    that cannot be opened) or dropped the connection; the message says why, without secrets."""


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, without secrets."""


class WriterBusy(Exception):
    """A unit of work asked not to wait (`uow(waits=False)`) found the database's single writer
    taken (SQLite): nothing was done. PostgreSQL has no single writer and never raises it."""
