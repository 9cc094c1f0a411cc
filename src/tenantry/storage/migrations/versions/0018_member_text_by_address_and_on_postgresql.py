"""member search text indexed by address on both engines, and kept on PostgreSQL too, where a
search of a large account no longer reads every user of the database holding a common text

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 22:00:00

Both engines: `search_member_text_ordered`, an index of the member text by account, text and
user. A member text starts with the lowered address and a line feed, so the index walks an
account's members in order of address: a page by address of a text most members hold stops
where it ends instead of sorting every match (SQLite, 100,000 members among a million users:
34 → 16 ms), and a page of an account without a search is named from it.

PostgreSQL searched a large account through trigram indexes on every user's address and name
(migration 0013). A text most people hold (a company's domain, `example`) found every such
user of the database and joined each to the account: 3.3 s for a page of the 100,000-member
account among a million users, 0.7 s for a text a tenth of them hold. It now keeps the member
text SQLite keeps (migration 0017): each membership's lowered address, a line feed, its
lowered name, kept in step by triggers in the same transaction as every write (skipping
updates that change nothing it holds), with the ordered index and a GIN index of the account
and the text's trigrams (`search_member_text_trigrams`; `btree_gin` beside `pg_trgm`, both
trusted contrib extensions): a rare text is found among the account's own rows (3 ms), a
common one by walking them (under 1 ms to the page; counting 100,000 reads them all, 22 ms).
Its columns compare in the "C" collation: byte order, SQLite's and Python's, in which the
line feed sorts before every character an address may hold.

The users' trigram indexes served nothing else and cost every write of a user two GIN
entries: they go (the accounts' stays, for the accounts list). Their statistics stay, as
statistics on the lowered address and name (PostgreSQL 14 or later): a text a search through
the members looks for in them (`lower(email) LIKE '%example%'`) is then known to be common or
rare. Without them the planner takes every text for rare, and paged a common one of the large
account in joining order by reading every user of the database (1.7 s) instead of walking the
account's members until the page is full (1 ms).

A later migration that rebuilds `users` or `memberships` must keep the triggers (on SQLite,
batch mode drops them with the table: create them again with the same SQL).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQL built from these constants only. Each function is its trigger's body; AFTER triggers'
# results are ignored. A new member's text reads their user FOR SHARE: a rename of the user
# in a transaction not yet committed changes no key, so the foreign key's lock would not wait
# for it, and each would miss the other (the new row with the old name, the rename's update
# without the new row), for good; with the lock, whichever comes second waits for the first
# and then sees its work (SQLite runs one writer at a time).
_TEXT_OF_NEW_MEMBER = """
        INSERT INTO search_member_text (account_id, user_id, text)
        SELECT NEW.account_id, NEW.user_id,
            lower(member.email) || chr(10) || coalesce(lower(member.name), '')
        FROM (SELECT email, name FROM users WHERE users.id = NEW.user_id FOR SHARE) AS member;"""
_TEXT_OF_OLD_MEMBER = """
        DELETE FROM search_member_text
        WHERE account_id = OLD.account_id AND user_id = OLD.user_id;"""
_TRIGGERS: dict[str, tuple[str, str, str]] = {
    # name: (what fires it, on which rows, what it does)
    "search_member_text_added": ("INSERT ON memberships", "TRUE", _TEXT_OF_NEW_MEMBER),
    "search_member_text_removed": ("DELETE ON memberships", "TRUE", _TEXT_OF_OLD_MEMBER),
    "search_member_text_moved": (
        "UPDATE OF account_id, user_id ON memberships",
        "OLD.account_id IS DISTINCT FROM NEW.account_id"
        " OR OLD.user_id IS DISTINCT FROM NEW.user_id",
        _TEXT_OF_OLD_MEMBER + _TEXT_OF_NEW_MEMBER,
    ),
    "search_member_text_renamed": (
        # Updates write every column: only a real change of address or name rewrites the
        # rows (a sign-in would otherwise rewrite one per membership).
        "UPDATE OF email, name ON users",
        "OLD.email IS DISTINCT FROM NEW.email OR OLD.name IS DISTINCT FROM NEW.name",
        """
        UPDATE search_member_text
        SET text = lower(NEW.email) || chr(10) || coalesce(lower(NEW.name), '')
        WHERE user_id = NEW.id
            AND account_id IN (SELECT account_id FROM memberships WHERE user_id = NEW.id);""",
    ),
}
_INDEXES = {
    "search_member_text_ordered": "(account_id, text, user_id)",
    "search_member_text_trigrams": "USING gin (account_id, text gin_trgm_ops)",
}
_USERS_TEXT_STATISTICS = {
    "search_users_email_lowered": "lower(email)",
    "search_users_name_lowered": "lower(name)",
}
_USERS_TRIGRAMS = {
    "search_users_email": "users USING gin (lower(email) gin_trgm_ops)",
    "search_users_name": "users USING gin (lower(name) gin_trgm_ops)",
}


_ORDERED = "search_member_text_ordered"


OLDEST_POSTGRESQL = (14,)
"""Statistics on expressions (`CREATE STATISTICS ... ON (lower(email))`) came with 14."""


def upgrade() -> None:
    dialect = op.get_bind().dialect
    version = tuple(part for part in dialect.server_version_info or () if isinstance(part, int))
    if dialect.name == "postgresql" and version < OLDEST_POSTGRESQL:
        found = ".".join(str(part) for part in version)
        raise RuntimeError(f"tenantry needs PostgreSQL 14 or later; this server is {found}.")
    if dialect.name != "postgresql":
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {_ORDERED} ON search_member_text {_INDEXES[_ORDERED]}"
        )
        return
    # Both are trusted extensions: a database owner without superuser rights may create them.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        """CREATE TABLE IF NOT EXISTS search_member_text (
            account_id VARCHAR(8) COLLATE "C" NOT NULL,
            user_id VARCHAR(36) COLLATE "C" NOT NULL,
            text TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (account_id, user_id)
        )"""
    )
    for name, (event, rows, steps) in _TRIGGERS.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN {steps} RETURN NULL; END $$"
        )
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {_table(event)}")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW WHEN ({rows})"
            f" EXECUTE FUNCTION {name}()"
        )
    op.execute("TRUNCATE search_member_text")  # filled from what is there, whatever was
    op.execute(
        """INSERT INTO search_member_text (account_id, user_id, text)
        SELECT memberships.account_id, memberships.user_id,
            lower(users.email) || chr(10) || coalesce(lower(users.name), '')
        FROM memberships JOIN users ON users.id = memberships.user_id"""
    )
    for name, how in _INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON search_member_text {how}")
    for name in _USERS_TRIGRAMS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, expression in _USERS_TEXT_STATISTICS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM users")
    op.execute("ANALYZE users, search_member_text")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {_ORDERED}")
        return
    for name, (event, _rows, _steps) in _TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {_table(event)}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS search_member_text")
    for name in _USERS_TEXT_STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
    for name, target in _USERS_TRIGRAMS.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def _table(event: str) -> str:
    return event.rsplit(" ON ", 1)[1]
