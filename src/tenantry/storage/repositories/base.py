from __future__ import annotations

from typing import Any

import sqlalchemy as sa


class Repository:
    def __init__(self, connection: sa.Connection) -> None:
        self.conn = connection

    def _one(self, statement: sa.Executable) -> sa.Row[Any] | None:
        return self.conn.execute(statement).first()


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern matching `text` anywhere, with wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
