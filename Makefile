# Developer entry points. `make check` is exactly what CI runs (see .ci/run).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when the project's metadata changes.
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: venv run test lint check fmt bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# `tenantry init` is idempotent: it prints the admin login only the first time.
run: venv
	$(BIN)/tenantry init
	$(BIN)/tenantry serve --host $(HOST) --port $(PORT)

# The whole suite, PostgreSQL included: the tests start their own cluster.
test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python -m bench
