"""The core speaks tenantry: no face or vendor dialect is named in `domain/` or `services/`
(module names, identifiers, short string constants such as keys and labels), and modules and
functions stay small enough to read."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import tenantry

PACKAGE = Path(tenantry.__file__).parent
CORE = [PACKAGE / "domain", PACKAGE / "services"]
DIALECT_WORDS = re.compile(r"capig|appsflyer|invoca|scim|graphql|bulk|network_?rest", re.I)
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _modules(roots: list[Path]) -> list[Path]:
    return sorted(path for root in roots for path in root.rglob("*.py"))


def _names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.arg):
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, node.name
            if node.asname:
                yield line, node.asname
        elif isinstance(node, ast.keyword) and node.arg:
            yield line, node.arg
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            # Keys, labels and names; sentences (docstrings, messages) may cite the documents.
            and " " not in node.value
            and len(node.value) < 60
        ):
            yield line, node.value


@pytest.mark.parametrize("path", _modules(CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_names_no_dialect(path: Path) -> None:
    assert not DIALECT_WORDS.search(path.stem), f"{path.name} is named after a face"
    found = [
        f"{path.name}:{line}: {name}"
        for line, name in _names(ast.parse(path.read_text(encoding="utf-8")))
        if DIALECT_WORDS.search(name)
    ]
    assert not found, "dialect names in the core:\n" + "\n".join(found)


def test_the_check_sees_a_dialect_name() -> None:
    tree = ast.parse("def bulk_add(scim_user): return roles.key_for('invoca', name)")
    assert {name for _, name in _names(tree) if DIALECT_WORDS.search(name)} == {
        "bulk_add",
        "scim_user",
        "invoca",
    }
