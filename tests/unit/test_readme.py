"""The README agrees with the code a newcomer meets first: every setting has a row in its
configuration table with its variable and default, the `TENANTRY_*` names it mentions exist,
`make test`'s prerequisites are listed with what CI installs, and the way to serve on another
host and port is the one the Makefile and `tenantry serve` take."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, SecretStr
from typer.testing import CliRunner

from tenantry.entrypoints.cli.main import build_cli
from tenantry.settings import CATALOGUE_DIR, Settings

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PREFIX = "TENANTRY_"


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def variable_names(name: str) -> list[str]:
    """The environment names that set a field: its current one first, then earlier ones."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [PREFIX + name.upper()]


def documented_defaults() -> dict[str, str]:
    """Variable → its default as the configuration table writes it. A row that names several
    variables (`A` / `B`) gives their defaults in the same order (`1` / `2`)."""
    rows = [
        line for line in section("Configuration").splitlines() if line.startswith("| `TENANTRY_")
    ]
    assert rows, "the configuration table is missing"
    found: dict[str, str] = {}
    for row in rows:
        names_cell, default_cell, _meaning = (cell.strip() for cell in row.strip("|").split(" | "))
        names = [name.strip().strip("`") for name in names_cell.split(" / ")]
        defaults = [default.strip() for default in default_cell.split(" / ")]
        assert len(names) == len(defaults), f"one default per variable: {row}"
        for name, default in zip(names, defaults, strict=True):
            assert name not in found, f"{name} has two rows"
            found[name] = default
    return found


def written(default: Any) -> str:
    """A default as the table writes it: a value in backquotes, or "unset"."""
    if default is None or (isinstance(default, SecretStr) and not default.get_secret_value()):
        return "unset"
    if isinstance(default, Path):
        default = default.relative_to(CATALOGUE_DIR.parent).as_posix()
    elif isinstance(default, bool):
        default = str(default).lower()
    elif isinstance(default, float):
        default = f"{default:g}"
    return f"`{default}`"


def test_every_setting_has_a_row_with_its_variable_and_default() -> None:
    table = documented_defaults()
    missing = []
    for name, field in Settings.model_fields.items():
        variable = variable_names(name)[0]
        if variable not in table:
            missing.append(variable)
            continue
        shown = table[variable]
        expected = written(field.get_default())
        # The value leads its cell; words may follow it ("unset: a random key per process").
        assert re.sub(r"^shipped ", "", shown).startswith(expected), (variable, shown, expected)
    assert missing == [], "settings without a row in the README's configuration table"


def test_the_table_names_only_settings() -> None:
    settings = {variable_names(name)[0] for name in Settings.model_fields}
    assert set(documented_defaults()) <= settings


def test_every_tenantry_variable_the_readme_names_exists() -> None:
    settings = {variable for name in Settings.model_fields for variable in variable_names(name)}
    # The test suite's own switches: each must still be read somewhere under tests/.
    tests_source = "".join(path.read_text(encoding="utf-8") for path in ROOT.glob("tests/**/*.py"))
    unknown = []
    for mentioned in set(re.findall(r"\bTENANTRY_[A-Z0-9_]*", README)):
        if mentioned.endswith("_"):  # a family, as in `TENANTRY_SMTP_*`
            known = any(variable.startswith(mentioned) for variable in settings)
        else:
            known = mentioned in settings or f'"{mentioned}"' in tests_source
        if not known:
            unknown.append(mentioned)
    assert unknown == []


def test_make_test_lists_postgresql_and_chromium_as_prerequisites() -> None:
    start = section("Two commands")
    listed = start[start.index("**Prerequisites of `make test`**") :]
    items = re.findall(r"^- \*\*(\w+)\*\*.*?`apt-get install ([^`]+)`", listed, re.MULTILINE)
    assert [name for name, _ in items] == ["PostgreSQL", "Chromium"]
    # What CI installs when it is missing (make, Python and the test prerequisites) is each
    # named where a newcomer reads how to run the tests.
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = {
        package for group in re.findall(r"packages\+=\(([^)]*)\)", ci) for package in group.split()
    }
    assert {"postgresql", "chromium"} <= installed
    named = {package for _, line in items for package in line.split()}
    named |= set(re.findall(r"`([\w-]+)`", start[: start.index("```")]))  # python3, make...
    # The fault suite's own (`make faults`, which CI runs too), named in its paragraph.
    faults = start[start.index("**The fault suite**") :]
    named |= {p for line in re.findall(r"`apt-get install ([^`]+)`", faults) for p in line.split()}
    assert installed <= named


def _no_composition(settings: Settings) -> Any:
    raise AssertionError("--help needs no composition")


def test_serving_elsewhere_is_described_as_the_makefile_and_serve_take_it() -> None:
    start = section("Two commands")
    assert re.search(r"`make run HOST=\S+ PORT=\d+`", start)
    assert re.search(r"`\.venv/bin/tenantry serve --host \S+ --port \d+`", start)
    # make run derives the base URL from them, as the README says.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "TENANTRY_BASE_URL ?= http://$(HOST):$(PORT)" in makefile
    assert "sets it to `http://HOST:PORT`" in start
    assert f"leaves\nit at `{Settings.model_fields['base_url'].default}`" in start
    # And `tenantry serve` takes the options the README names.
    help_text = CliRunner().invoke(build_cli(_no_composition), ["serve", "--help"]).output
    assert "--host" in help_text
    assert "--port" in help_text
