# Tandem: the README names these targets. Everything installs into .venv with uv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export PICCOLO_CONF := tandem.piccolo_conf
export PYTHONPATH := platform:.
# uvicorn applies X-Forwarded-For from these addresses before Tandem sees a request; Tandem
# reads the header itself, only from TANDEM_TRUSTED_PROXIES (see README "Security").
export FORWARDED_ALLOW_IPS :=
LITESTAR := $(BIN)/litestar --app tandem.app:create_app
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install serve migrate demo test test-postgres test-browser lint typecheck validate-content compose-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e . --group dev
	touch $@

install: $(VENV)/.installed

migrate: install
	$(LITESTAR) db migrate

demo: migrate
	$(LITESTAR) demo load

## Serve on the embedded SQLite database with migrations applied and demo data loaded.
serve: demo
	$(LITESTAR) run --host $(HOST) --port $(PORT)

## Lint, type-check, validate the training content, then the whole suite on SQLite.
test: install lint typecheck validate-content
	$(BIN)/python -m pytest

## The same suite against PostgreSQL (DATABASE_URL defaults to the local test database).
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(BIN)/python -m pytest

## Pages in a real Chromium (needs `apt-get install chromium`).
test-browser: install
	$(BIN)/python -m pytest -m browser tests/browser

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy matching

validate-content: install
	$(LITESTAR) training validate

compose-check: install
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

bench: install
	$(BIN)/python bench/bench_matching.py --quick

clean:
	rm -rf $(VENV) var
