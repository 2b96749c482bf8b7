# rightsend - `make run` and `make test` are all a newcomer needs. `make help` lists the rest.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATE ?= 2026-11-20
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run demo test test-fast lint format docs bench stack stack-down clean browser

help: ## list every target
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip==25.3
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

install: $(INSTALLED) ## create .venv and install the pinned requirements (once)

run: install ## set up, write demo data if none is landed, run the daily chain for DATE through Airflow
	$(BIN)/rightsend demo --if-empty --end-date $(DATE)
	$(BIN)/rightsend run --date $(DATE)

demo: install ## (re)write the demo landing zone
	$(BIN)/rightsend demo --end-date $(DATE)

browser: ## install Debian's headless Chromium for the report test (skipped if it cannot)
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium could not be installed: the browser test will be skipped"

test: install browser lint ## lint, then the whole test suite (installs first if needed)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install ## the unit tests only (no Airflow, no services)
	$(BIN)/python -m pytest -m "not integration and not services and not browser" $(PYTEST_ARGS)

lint: install ## ruff: lint and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install ## ruff format and fix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

docs: install ## build and serve the dbt docs on :8080 (after make run)
	cd dbt_project && export RIGHTSEND_WAREHOUSE=$${RIGHTSEND_WAREHOUSE:-$(CURDIR)/data/warehouse/rightsend.duckdb} \
	  && ../$(BIN)/dbt docs generate --profiles-dir . && ../$(BIN)/dbt docs serve --profiles-dir . --port 8080

bench: install ## benchmarks at scale (see benchmarks/README.md)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean: ## remove generated data, Airflow home and dbt artefacts (keeps .venv)
	rm -rf data .airflow dbt_project/target dbt_project/logs

stack: install ## start Airflow natively with the CeleryExecutor on Postgres + Redis (docs/deployment.md)
	$(BIN)/python -m rightsend.stack up

stack-down: ## stop what `make stack` started (STACK_ARGS=--drop-db also drops its metadata DB)
	$(BIN)/python -m rightsend.stack down $(STACK_ARGS)
