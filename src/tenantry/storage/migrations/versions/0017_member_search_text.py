"""member search text on SQLite: each membership's lowered address and name, keyed by account,
so that a search of a large account scans one narrow table instead of reading every member

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:40:00

SQLite has no index that finds `'%text%'` inside a column (PostgreSQL's trigram indexes do,
migration 0013), so a search reads the account's members; through `memberships` that is one
user read by key for each member, 260 to 570 ms for an account of 100,000 members among a million
users. `search_member_text` holds, for each membership, the lowered address and name in one
column, clustered by account (`WITHOUT ROWID`, keyed by account and user): the same search
scans 100,000 short rows in order, about 12 ms, and reads only the matching users
(docs/performance.md, "Search at scale").

Triggers keep it in step with `memberships` and `users` in the same transaction as every
write, whichever code (or tool) writes: a membership added, removed or moved, a user's
address or name changed, and a user or account deleted (the foreign keys' cascades fire the
membership triggers). The repositories use it only as a first cut (`member_text`): the
search's own condition is still applied to the users it names, so the answers are those of
the plain search by construction.

A later migration that rebuilds `users` or `memberships` on SQLite (batch mode copies the
table) must drop these triggers first and create them again after, with the same SQL.

PostgreSQL: nothing (its trigram indexes serve the search). The table is left out of the
drift check between the tables and the migrated schema (`SEARCH_TABLES`), like the
PostgreSQL-only search indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each row's text: the lowered address, a line feed, the lowered name. One LIKE over one column
# is the cheapest test per row; a search's pattern that crosses the line feed is refused by
# the search's own condition afterwards. No index but the key: a renamed user's rows are found
# through their memberships (an index by user made a bulk add of 20 members 7% slower). SQL
# built from these constants only.
_ADD_NEW = """
            INSERT INTO search_member_text (account_id, user_id, text)
            SELECT NEW.account_id, NEW.user_id,
                lower(users.email) || char(10) || coalesce(lower(users.name), '')
            FROM users WHERE users.id = NEW.user_id;"""
_REMOVE_OLD = """
            DELETE FROM search_member_text
            WHERE account_id = OLD.account_id AND user_id = OLD.user_id;"""
_TRIGGERS = {
    "search_member_text_added": ("AFTER INSERT ON memberships", _ADD_NEW),
    "search_member_text_removed": ("AFTER DELETE ON memberships", _REMOVE_OLD),
    "search_member_text_moved": (
        "AFTER UPDATE OF account_id, user_id ON memberships",
        _REMOVE_OLD + _ADD_NEW,
    ),
    "search_member_text_renamed": (
        # Updates write every column: only a real change of address or name rewrites the
        # rows (a sign-in would otherwise rewrite one per membership).
        "AFTER UPDATE OF email, name ON users"
        " WHEN OLD.email IS NOT NEW.email OR OLD.name IS NOT NEW.name",
        """
            UPDATE search_member_text
            SET text = lower(NEW.email) || char(10) || coalesce(lower(NEW.name), '')
            WHERE user_id = NEW.id
                AND account_id IN (SELECT account_id FROM memberships WHERE user_id = NEW.id);""",
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        """CREATE TABLE IF NOT EXISTS search_member_text (
            account_id VARCHAR(8) NOT NULL,
            user_id VARCHAR(36) NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (account_id, user_id)
        ) WITHOUT ROWID"""
    )
    for name, (event, steps) in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {event} BEGIN {steps} END")
    op.execute(
        """INSERT OR REPLACE INTO search_member_text (account_id, user_id, text)
        SELECT memberships.account_id, memberships.user_id,
            lower(users.email) || char(10) || coalesce(lower(users.name), '')
        FROM memberships JOIN users ON users.id = memberships.user_id"""
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_member_text")
