# serverless-crud — every target does its own set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
STATE_DIR ?= .local
PYTEST := $(BIN)/python -m pytest
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install chromium tools run test lint typecheck test-unit test-integration test-e2e test-infra test-browser screenshots bench schemas lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: $(STAMP) chromium tools ## Set up .venv with the pinned dependencies, Chromium and jq (idempotent)

chromium: ## Install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null || (export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q chromium) \
	  || echo "!!! Could not install Chromium: the browser tests will be SKIPPED until it is installed !!!" >&2

tools: ## Install curl and jq (the README's examples use them) when missing
	@command -v jq >/dev/null && command -v curl >/dev/null || (export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q jq curl) || echo "!!! Could not install jq/curl: the README test will fail !!!" >&2

$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: install ## Serve the app locally on http://127.0.0.1:$(PORT) (STATE_DIR keeps the data)
	$(BIN)/serverless-crud serve --port $(PORT) --state-dir $(STATE_DIR)

test: install lint typecheck test-unit test-integration test-e2e test-infra test-browser ## Everything CI checks

lint: install ## ruff
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: install ## mypy --strict on the package
	$(BIN)/mypy

test-unit: install ## Unit tests: one module at a time
	$(PYTEST) tests/unit -q

test-integration: install ## The handler driven by API Gateway events against moto
	$(PYTEST) tests/integration -q

test-e2e: install ## The local server over HTTP
	$(PYTEST) tests/e2e -q

test-infra: install ## template.yaml: cfn-lint, SAM transform, checkov
	$(PYTEST) tests/infra -q

test-browser: install ## The web UI in Chromium (Playwright), against `serverless-crud serve`
	@command -v chromium >/dev/null || test -n "$$CHROMIUM" \
	  || echo "!!!!!!!! NO CHROMIUM FOUND: the browser tests are SKIPPED (make install installs it) !!!!!!!!" >&2
	$(PYTEST) tests/browser -q

screenshots: install ## Re-take docs/screenshots/*.png: every page, desktop and phone
	SCREENSHOTS_DIR=docs/screenshots $(PYTEST) tests/browser/test_screenshots.py -q

bench: install ## Benchmarks: ratios against baselines measured in the same run
	$(BIN)/python -m bench

schemas: install ## Regenerate src/serverless_crud/models/schemas.json from the record model
	$(BIN)/python scripts/generate_schemas.py

lock: ## Re-resolve requirements/dev.in into requirements/lock.txt
	rm -rf /tmp/serverless-crud-lock && $(PYTHON) -m venv /tmp/serverless-crud-lock
	/tmp/serverless-crud-lock/bin/pip install --quiet -r requirements/dev.in
	/tmp/serverless-crud-lock/bin/pip freeze --exclude-editable | sort -f > requirements/lock.txt

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
