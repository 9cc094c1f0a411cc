"""Catalogues shipped as files (roles, media sources) and the ISO 3166 list of geos."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pycountry

from tenantry.domain.accounts import AccountKind
from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.roles import AccessLevel, Role, RoleCatalogue


def load_role_catalogue(path: Path) -> RoleCatalogue:
    doc = json.loads(path.read_text(encoding="utf-8"))
    roles = [
        Role(
            key=item["key"],
            display_name=item["display_name"],
            capabilities={
                section: {name: AccessLevel[level.upper()] for name, level in caps.items()}
                for section, caps in item["capabilities"].items()
            },
            account_kinds=frozenset(AccountKind(k) for k in item["account_kinds"]),
            unrestricted_scope=bool(item.get("unrestricted_scope", False)),
            names={d: n for d, n in item.get("names", {}).items() if n},
        )
        for item in doc["roles"]
    ]
    return RoleCatalogue(doc["sections"], roles)


def load_media_sources(path: Path) -> frozenset[str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(name.lower() for name in doc["media_sources"])


@lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    try:
        return str(pycountry.countries.lookup(value.strip()).alpha_2)
    except LookupError:
        return None


def normalize_geos(values: Iterable[object]) -> tuple[str, ...]:
    """ISO 3166 countries by alpha-2, alpha-3 or name, any case → alpha-2 codes."""
    codes = []
    for value in values:
        code = _country_code(value) if isinstance(value, str) else None
        if code is None:
            raise InvalidInput(ErrorCode.UNKNOWN_GEOS, field="geos")
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def normalize_media_sources(values: Iterable[object], known: frozenset[str]) -> tuple[str, ...]:
    sources = []
    for value in values:
        if not isinstance(value, str) or value.strip().lower() not in known:
            raise InvalidInput(ErrorCode.UNKNOWN_MEDIA_SOURCES, field="media_sources")
        sources.append(value.strip().lower())
    return tuple(dict.fromkeys(sources))
