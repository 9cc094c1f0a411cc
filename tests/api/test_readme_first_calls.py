"""The README's *First calls*, run as written: its shell blocks are read, `curl` is sent to the
app in-process through httpx, `.venv/bin/tenantry` runs the CLI on the same database, the
shell helper they pipe into runs in bash, and each answer is compared with the one the README
shows under its command. A changed endpoint, header, query or answer fails here first.

The shell understood is the little the README uses: assignments, `$NAME`, `$(...)`, quotes,
pipes, line continuations, one-line function definitions and comments. Anything else fails
the test, so the README stays within what this checks."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from tenantry.app import Composition
from tenantry.entrypoints.cli.main import build_cli
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

from httpclient import HttpClient

README = Path(__file__).parents[2] / "README.md"
SECTION = "## First calls"
CLI = ".venv/bin/tenantry"
ELLIPSIS = "…"
# Rich reads these; unset, the output is what a pipe gets.
PLAIN_OUTPUT = {"COLUMNS": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1"}

# -- reading the shell -------------------------------------------------------------------------


@dataclass
class Var:
    name: str


@dataclass
class Subst:
    pipeline: list[list[Word]]


Part = str | Var | Subst
Word = list[Part]


@dataclass
class Command:
    pipeline: list[list[Word]]
    shows: str | None = None  # the answer the README prints under it, as a comment


@dataclass
class Script:
    functions: dict[str, str] = field(default_factory=dict)  # name → its definition
    commands: list[Command] = field(default_factory=list)


def section_blocks(text: str) -> str:
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert blocks, f"no sh blocks under {SECTION!r}"
    return "\n".join(blocks)


def parse_script(source: str) -> Script:
    script = Script()
    lines = []
    for line in source.splitlines():
        definition = re.fullmatch(r"(\w+)\(\) \{ .*; \}", line)
        if definition:
            script.functions[definition.group(1)] = line
        else:
            lines.append(line)
    text = "\n".join(lines)
    position = 0
    while position < len(text):
        pipeline, position, comment = _pipeline(text, position, until="\n")
        if pipeline:
            script.commands.append(Command(pipeline))
        elif comment is not None and comment.startswith(("{", "[")):
            assert script.commands, f"an answer shown under no command: {comment}"
            script.commands[-1].shows = comment
    return script


def _pipeline(text: str, i: int, *, until: str) -> tuple[list[list[Word]], int, str | None]:
    """One command line from `i` to an unquoted `until`: its pipeline, where it ends, and the
    comment that made up the whole line (if it was one)."""
    stages: list[list[Word]] = [[]]
    word: Word = []
    started = False  # whether `word` has begun (an empty '' is a word)
    comment: str | None = None

    def end_word() -> None:
        nonlocal word, started
        if started:
            stages[-1].append(_joined(word))
        word, started = [], False

    while i < len(text):
        char = text[i]
        if char == until:
            i += 1
            break
        if char == "\n":  # inside $(...): only continued lines are read
            raise AssertionError(f"a line break inside $(...): {text[i - 40 : i]!r}")
        if char in " \t":
            end_word()
            i += 1
        elif char == "\\" and text[i + 1 : i + 2] == "\n":
            i += 2
        elif char == "\\":
            word.append(text[i + 1])
            started, i = True, i + 2
        elif char == "#" and not started:
            line_end = text.find("\n", i)
            line_end = len(text) if line_end == -1 else line_end
            if stages == [[]]:
                comment = text[i + 1 : line_end].strip()
            i = line_end
        elif char == "|":
            end_word()
            stages.append([])
            i += 1
        elif char == "'":
            close = text.index("'", i + 1)
            word.append(text[i + 1 : close])
            started, i = True, close + 1
        elif char == '"':
            i = _double_quoted(text, i + 1, word)
            started = True
        elif char == "$":
            i = _expansion(text, i, word)
            started = True
        elif char in ";&<>(){}`":
            raise AssertionError(f"shell syntax this test does not read: {text[i : i + 40]!r}")
        else:
            word.append(char)
            started, i = True, i + 1
    end_word()
    if stages == [[]]:
        return [], i, comment
    assert all(stages), f"an empty pipeline stage near {text[max(0, i - 60) : i]!r}"
    return stages, i, comment


def _joined(word: Word) -> Word:
    """The word with its adjacent literal characters joined into strings."""
    joined: Word = []
    for part in word:
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        else:
            joined.append(part)
    return joined or [""]


def _double_quoted(text: str, i: int, word: Word) -> int:
    while text[i] != '"':
        if text[i] == "\\" and text[i + 1] in '"\\$`':
            word.append(text[i + 1])
            i += 2
        elif text[i] == "$":
            i = _expansion(text, i, word)
        else:
            assert text[i] != "`", "backquotes are not read"
            word.append(text[i])
            i += 1
    return i + 1


def _expansion(text: str, i: int, word: Word) -> int:
    if text.startswith("$(", i):
        pipeline, end, _ = _pipeline(text, i + 2, until=")")
        word.append(Subst(pipeline))
        return end
    name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1 :])
    assert name, f"an expansion this test does not read: {text[i : i + 20]!r}"
    word.append(Var(name.group()))
    return i + 1 + name.end()


# -- running it --------------------------------------------------------------------------------


@dataclass
class Shell:
    """Runs the script's commands against the app and the CLI of one database."""

    client: HttpClient
    database_url: str
    functions: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "METHOD path" and "tenantry <command>"

    def value(self, word: Word) -> str:
        out = []
        for part in word:
            if isinstance(part, Var):
                assert part.name in self.variables, f"${part.name} is used before it is set"
                out.append(self.variables[part.name])
            elif isinstance(part, Subst):
                out.append(self.pipeline(part.pipeline).rstrip("\n"))
            else:
                out.append(part)
        return "".join(out)

    def pipeline(self, stages: list[list[Word]]) -> str:
        data: str | None = None
        for stage in stages:
            data = self.stage([self.value(word) for word in stage], data)
        assert data is not None
        return data

    def stage(self, argv: list[str], stdin: str | None) -> str:
        program, *args = argv
        if program == "curl":
            assert stdin is None, "curl reads no input here"
            return self.curl(args)
        if program == CLI:
            return self.tenantry(args)
        if program in self.functions:
            return self.function(program, args, stdin)
        raise AssertionError(f"a command this test does not run: {program}")

    def curl(self, args: list[str]) -> str:
        method, headers, data = None, {}, []
        url = None
        options = iter(args)
        for arg in options:
            if arg == "-s":
                continue
            if arg == "-X":
                method = next(options)
            elif arg == "-H":
                name, _, value = next(options).partition(":")
                headers[name.strip()] = value.strip()
            elif arg == "-d":
                data.append(next(options))
            else:
                assert not arg.startswith("-"), f"a curl option this test does not read: {arg}"
                assert url is None, "one URL per curl"
                url = arg
        assert url is not None, "curl without a URL"
        assert urlsplit(url).scheme == "http", url
        if data and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        method = method or ("POST" if data else "GET")
        self.calls.append(f"{method} {urlsplit(url).path}")
        response = self.client.request(
            method,
            url,
            headers=headers,
            content="&".join(data).encode() if data else None,
        )
        assert response.is_success, (url, response.status_code, response.text)
        return response.text

    def tenantry(self, args: list[str]) -> str:
        self.calls.append(" ".join(["tenantry", *args[:2]]))
        runner = CliRunner(env=PLAIN_OUTPUT)
        result = runner.invoke(
            build_cli(_fast_composition),
            ["--database-url", self.database_url, *args],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    def function(self, name: str, args: list[str], stdin: str | None) -> str:
        # The helper the README defines, run by bash as a reader's shell runs it.
        done = subprocess.run(
            ["bash", "-c", f'{self.functions[name]}\n{name} "$@"', "bash", *args],
            input=stdin or "",
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (name, args, done.stderr)
        return done.stdout

    def run(self, command: Command) -> None:
        [first_stage, *_] = command.pipeline
        first = first_stage[0][0]
        if isinstance(first, str) and re.match(r"[A-Za-z_]\w*=", first):
            assert len(command.pipeline) == 1, "an assignment piped"
            assert len(first_stage) == 1, "VAR=x command"
            self.assign(first_stage[0])
            return
        shown = self.pipeline(command.pipeline)
        if command.shows is not None:
            assert matches(json.loads(shown), shown_answer(command.shows)), (shown, command.shows)

    def assign(self, word: Word) -> None:
        first = word[0]
        assert isinstance(first, str)
        name, _, rest = first.partition("=")
        value = self.value([rest, *word[1:]])
        if value == ELLIPSIS:  # to be filled in by the reader: the test has it already
            assert name in self.variables, f"the test does not know what to fill in for {name}"
            return
        self.variables[name] = value


def _fast_composition(settings: Settings) -> Composition:
    built = Composition(settings)
    built.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    return built


def shown_answer(text: str) -> Any:
    """An answer as the README prints it: "…" stands for any value, and a trailing ", …" in
    an object for keys left out."""
    return json.loads(re.sub(r",\s*…\s*}", ', "…": "…"}', text))


def matches(actual: Any, shown: Any) -> bool:
    if shown == ELLIPSIS:
        return True
    if isinstance(shown, dict):
        open_ended = shown.get(ELLIPSIS) == ELLIPSIS
        keys = set(shown) - {ELLIPSIS}
        return (
            isinstance(actual, dict)
            and (keys <= set(actual) if open_ended else keys == set(actual))
            and all(matches(actual[key], shown[key]) for key in keys)
        )
    if isinstance(shown, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(shown)
            and all(matches(a, s) for a, s in zip(actual, shown, strict=True))
        )
    return bool(actual == shown)


# -- the test ----------------------------------------------------------------------------------


@pytest.fixture
def script() -> Script:
    return parse_script(section_blocks(README.read_text(encoding="utf-8")))


def test_the_first_calls_work_as_written(
    client: HttpClient, database_url: str, script: Script
) -> None:
    shell = Shell(client, database_url, script.functions)
    # What `make run` does first, and the two values the README asks the reader to copy.
    printed = json.loads(shell.tenantry(["init", "--json"]))
    shell.variables.update(SECRET=printed["client_secret"], ACCOUNT=printed["account_id"])
    for command in script.commands:
        shell.run(command)
    # What the section promises a newcomer: a token, a GraphQL query, the bulk API read and
    # written, and a new account's own API account; each call's answer shown and checked.
    assert set(shell.calls) >= {
        "POST /clients/token",
        "POST /hub/graphql/",
        "GET /api/user-management/v1.0/users",
        "POST /api/user-management/v1.0/users",
        "tenantry accounts create",
        "tenantry api-accounts create",
    }
    assert sum(command.shows is not None for command in script.commands) == 3


def test_the_answers_shown_are_checked_strictly() -> None:
    shown = shown_answer('{"users":[{"email":"a@example.com", …}]}')
    assert matches({"users": [{"email": "a@example.com", "role": "admin"}]}, shown)
    assert not matches({"users": [{"email": "b@example.com", "role": "admin"}]}, shown)
    assert not matches({"users": []}, shown)
    closed = shown_answer('{"data":{"id":"…","name":"Host"}}')
    assert not matches({"data": {"id": "x", "name": "Host", "more": 1}}, closed)
    assert not matches({"data": {"id": "x", "name": "Guest"}}, closed)
