# Two commands for a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format setup worker beat bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

## The app on the embedded default: SQLite, tasks in process, no services needed.
run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py load_study mil97
	DEBUG=1 $(BIN)/python manage.py import_ctcae
	DEBUG=1 $(BIN)/python manage.py load_demo
	DEBUG=1 $(BIN)/python manage.py sweep
	@echo "Serving on http://$(HOST):$(PORT)/  (sign in with a demo user above)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## The whole suite: lint, mypy --strict on the pure rules, Django checks, migrations up to date,
## then pytest in parallel (pytest-xdist: one process per core, each with its own test database).
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## Refresh the README's screenshots (docs/screenshots) from the browser tests.
screenshots: $(STAMP)
	EDC_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/browser -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=info

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=info

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
