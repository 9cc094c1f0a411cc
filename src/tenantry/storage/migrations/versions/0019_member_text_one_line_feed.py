"""member search text with one line feed: the one between the address and the name

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:15:00

A member text is the lowered address, a line feed, the lowered name, and the searches take
the first line feed for the boundary: a pattern for the address ends at it, one for the name
starts after it, which is what lets the member text count a text's matches and order them by
address exactly. A name holding a line feed of its own (the services refuse control
characters, but other tools may write one) broke that: its first part read as the end of the
address, and such a member was counted for an address search that does not keep them. The
triggers now write any line feed inside an address or a name as a carriage return, so the
text holds exactly one; the searches leave texts holding either character to their own
condition (`member_text.cuttable`), which finds them wherever they are.

Both engines: the triggers' text changes (SQLite's, of migration 0017, are made again;
PostgreSQL's functions, of migration 0018, replaced) and the table is filled again from what
is there. The downgrade keeps the text as it is: it serves the code of 0018 as well.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQL built from these constants only; `{nl}` and `{cr}` are each engine's way of writing
# the two characters, `{user}` the row of users the text is made of.
_TEXT = (
    "replace(lower({user}.email), {nl}, {cr}) || {nl}"
    " || replace(coalesce(lower({user}.name), ''), {nl}, {cr})"
)
_CHARACTERS = {
    "sqlite": {"nl": "char(10)", "cr": "char(13)"},
    "postgresql": {"nl": "chr(10)", "cr": "chr(13)"},
}
_NEW_MEMBER = {
    # PostgreSQL reads the user FOR SHARE, as in migration 0018.
    "sqlite": """
        INSERT INTO search_member_text (account_id, user_id, text)
        SELECT NEW.account_id, NEW.user_id, {text} FROM users AS member
        WHERE member.id = NEW.user_id;""",
    "postgresql": """
        INSERT INTO search_member_text (account_id, user_id, text)
        SELECT NEW.account_id, NEW.user_id, {text}
        FROM (SELECT email, name FROM users WHERE users.id = NEW.user_id FOR SHARE) AS member;""",
}
_OLD_MEMBER = """
        DELETE FROM search_member_text
        WHERE account_id = OLD.account_id AND user_id = OLD.user_id;"""
_RENAMED = """
        UPDATE search_member_text SET text = {text}
        WHERE user_id = NEW.id
            AND account_id IN (SELECT account_id FROM memberships WHERE user_id = NEW.id);"""
_FILL = """
    INSERT INTO search_member_text (account_id, user_id, text)
    SELECT memberships.account_id, memberships.user_id, {text}
    FROM memberships JOIN users AS member ON member.id = memberships.user_id"""
# SQLite's triggers as migration 0017 made them, but for their text.
_SQLITE_TRIGGERS = {
    "search_member_text_added": "AFTER INSERT ON memberships",
    "search_member_text_removed": "AFTER DELETE ON memberships",
    "search_member_text_moved": "AFTER UPDATE OF account_id, user_id ON memberships",
    "search_member_text_renamed": "AFTER UPDATE OF email, name ON users"
    " WHEN OLD.email IS NOT NEW.email OR OLD.name IS NOT NEW.name",
}


def _steps(engine: str) -> dict[str, str]:
    """Each trigger's statements on `engine`."""
    characters = _CHARACTERS[engine]
    member_text = _TEXT.format(user="member", **characters)
    new_member = _NEW_MEMBER[engine].format(text=member_text)
    renamed = _RENAMED.format(text=_TEXT.format(user="NEW", **characters))
    return {
        "search_member_text_added": new_member,
        "search_member_text_removed": _OLD_MEMBER,
        "search_member_text_moved": _OLD_MEMBER + new_member,
        "search_member_text_renamed": renamed,
    }


def upgrade() -> None:
    engine = op.get_bind().dialect.name
    for name, steps in _steps(engine).items():
        if engine == "postgresql":
            # The triggers of migration 0018 call these functions by name.
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
                f" AS $$ BEGIN {steps} RETURN NULL; END $$"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} {_SQLITE_TRIGGERS[name]} BEGIN {steps} END")
    # Filled again from what is there (SQLite's DELETE without a condition empties the
    # table at once, as PostgreSQL's TRUNCATE does).
    op.execute(
        "TRUNCATE search_member_text"
        if engine == "postgresql"
        else "DELETE FROM search_member_text"
    )
    op.execute(_FILL.format(text=_TEXT.format(user="member", **_CHARACTERS[engine])))


def downgrade() -> None:
    """Nothing to undo: a text with one line feed serves migration 0018's code too."""
