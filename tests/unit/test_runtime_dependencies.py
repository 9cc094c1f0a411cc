"""`make run` installs the project's dependencies without the `dev` extra, so the server's code
may import only those (and what they pull in): a test or lint tool imported by `src/` would
work in a developer's environment and fail on a server."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
SOURCE = ROOT / "src" / "tenantry"


def runtime_distributions() -> set[str]:
    """The project's dependencies and theirs, with the extras they ask for, as installed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found: set[str] = set()
    pending = [Requirement(text) for text in project["dependencies"]]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # not for this platform (its marker is false here)
        found.add(name)
        extras = {"", *requirement.extras}
        for text in requires:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(dependency)
    return found


def imported_modules() -> dict[str, Path]:
    """Each top-level module `src/tenantry` imports from outside itself, with one importer."""
    modules: dict[str, Path] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top != "tenantry" and top not in sys.stdlib_module_names:
                    modules.setdefault(top, path)
    return modules


def test_the_server_imports_only_runtime_dependencies() -> None:
    runtime = runtime_distributions()
    assert {"fastapi", "sqlalchemy", "uvicorn", "psycopg"} <= runtime  # the walk found them
    providers = metadata.packages_distributions()
    outside = {
        module: str(path.relative_to(ROOT))
        for module, path in imported_modules().items()
        if not {canonicalize_name(d) for d in providers.get(module, [])} & runtime
    }
    assert outside == {}, "imported by the server but not among its dependencies"


def test_the_dev_tools_are_not_runtime_dependencies() -> None:
    runtime = runtime_distributions()
    # httpx is no longer only a test client: the server calls identity providers with it.
    for tool in ("pytest", "ruff", "mypy", "playwright", "hypothesis"):
        assert tool not in runtime
