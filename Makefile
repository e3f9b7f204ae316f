# The two commands: `make demo` runs the service on demo data, `make test` runs every check.
# One virtual environment: `make demo` installs the service (the `server` extra; the base
# install is only the third-party SDK), `make test` adds the
# development tools (pytest, ruff, mypy, Playwright) to it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICE := $(VENV)/.installed-service
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit clean messages

$(SERVICE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,docs]'
	touch $(SERVICE)

$(DEV): $(SERVICE)
	$(BIN)/python -m pip install --quiet -e '.[server,dev,docs]'
	touch $(DEV)

demo: $(SERVICE)
	$(BIN)/gbconnect docs build
	GBCONNECT_DATABASE_URL=$${GBCONNECT_DATABASE_URL:-sqlite:///demo.db} $(BIN)/gbconnect demo

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEV)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

# Extract every translatable message into the template catalog and merge it into the
# Spanish and Thai catalogs (docs/translations.md); translate the new entries, then
# `make test` checks that none is missing.
POT := src/gbconnect/i18n/messages.pot
messages: $(DEV)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -c Translators: --sort-by-file \
		--project gbconnect --copyright-holder "gbconnect contributors" -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d src/gbconnect/i18n/locales --previous --ignore-obsolete

clean:
	rm -rf $(VENV) demo.db demo.db-shm demo.db-wal .pytest_cache .mypy_cache .ruff_cache
