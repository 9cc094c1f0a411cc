# Developer entry points. `make check` is exactly what CI runs (see .ci/run).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs, each redone only when the project's metadata changes: what the server needs
# (`make run`), and that plus the test, lint and benchmark tools (the `dev` extra).
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in mail and on pages start with it, so by default it names the address served; set it
# to the address people reach when that is another (a proxy, a public name, 0.0.0.0).
TENANTRY_BASE_URL ?= http://$(HOST):$(PORT)
PYTEST_ARGS ?= -n 2

.PHONY: venv dev run test faults lint check fmt bench

venv: $(RUNTIME_STAMP)

dev: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

# The dev install holds the runtime one, so it counts as that too.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

# `tenantry init` is idempotent: it prints the admin login only the first time.
run: venv
	$(BIN)/tenantry init
	TENANTRY_BASE_URL='$(TENANTRY_BASE_URL)' $(BIN)/tenantry serve --host $(HOST) --port $(PORT)

# The whole suite, PostgreSQL included: the tests start their own cluster.
test: dev
	$(BIN)/pytest $(PYTEST_ARGS)

# The fault suite (tests/faults, a few minutes): two real servers on a PostgreSQL cluster of its
# own, killed mid-call, the database restarted under load, mail down or hanging, a soak, and the
# previous release served on the migrated schema; it prints its figures at the end. Not part of
# `make test`: CI runs it after it (.ci/run).
faults: dev
	$(BIN)/pytest --faults tests/faults

lint: dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

fmt: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmarks load the HTTP faces with wrk (Debian's package, installed here when missing;
# CI does not need it) and drive the rest with the dev tools. BENCH_ARGS narrows a run, e.g.
# `make bench BENCH_ARGS="--engine sqlite --users 100000"`.
BENCH_ARGS ?=
bench: dev
	command -v wrk >/dev/null || { apt-get update && apt-get install -y --no-install-recommends wrk; }
	$(BIN)/python -m bench $(BENCH_ARGS)
