# serverless-crud — every target does its own set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AWS_TOOLS := $(VENV)/aws-tools
AWS_TOOLS_STAMP := $(AWS_TOOLS)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 3000
STATE_DIR ?= .local
PYTEST := $(BIN)/python -m pytest
export PYTHONDONTWRITEBYTECODE := 1
TF_SCHEMA := build/terraform/aws-provider-schema.json
TF_MODULE := deploy/terraform

.PHONY: test-lane-e2e test-lane-rest lock-aws-tools help install chromium fonts tools run test lint typecheck docs docs-serve test-unit test-integration test-e2e test-infra test-browser screenshots bench pages schemas lock clean package deploy terraform-fmt

help: ## List the targets
	@grep -E '^[a-zA-Z0-9%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

install: $(STAMP) $(AWS_TOOLS_STAMP) $(NODE_STAMP) $(TF_SCHEMA) chromium fonts tools ## Set up .venv (pinned dependencies, the SAM CLI and AWS CLI), node_modules, the AWS provider's schema, Chromium, the browser tests' fonts, jq (idempotent)

chromium: ## Install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null || (export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q chromium) \
	  || echo "!!! Could not install Chromium: the browser tests will be SKIPPED until it is installed !!!" >&2

# The browser tests draw every page with these fonts only (tests/browser/fonts.py pins them), so that a
# screenshot is the same on every machine: Latin, Greek, Cyrillic, Arabic and Hebrew (DejaVu),
# Chinese, Japanese and Korean (WenQuanYi Micro Hei), emoji (Noto Color Emoji).
FONT_PACKAGES := fonts-dejavu-core fonts-liberation fonts-wqy-microhei fonts-noto-color-emoji
# apt-get takes one lock: the targets that may call it run one after the other even under make -j.
fonts: | chromium
fonts: ## Install the fonts the browser tests draw with when they are missing
	@dpkg-query -W -f='$${Status}\n' $(FONT_PACKAGES) 2>/dev/null | grep -c '^install ok installed' | grep -qx 4 \
	  || (export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q $(FONT_PACKAGES)) \
	  || echo "!!! Could not install the fonts: the screenshot comparisons will fail !!!" >&2

tools: | fonts
tools: ## Install curl and jq (the README's examples use them) when missing
	@command -v jq >/dev/null && command -v curl >/dev/null || (export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q jq curl) || echo "!!! Could not install jq/curl: the README test will fail !!!" >&2

# The AWS provider's schema the Terraform module is checked against (tests/infra/test_terraform_module.py):
# condensed from the provider's published bindings, pinned with their hash; the wheel is not kept.
$(TF_SCHEMA): requirements/terraform-provider.txt scripts/terraform_provider_schema.py | $(STAMP)
	rm -rf build/terraform/wheel
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	  --only-binary=:all: --dest build/terraform/wheel -r requirements/terraform-provider.txt
	$(BIN)/python scripts/terraform_provider_schema.py build/terraform/wheel/*.whl $@
	rm -rf build/terraform/wheel

terraform-fmt: $(NODE_STAMP) ## Rewrite the Terraform module's files in terraform fmt's layout (hclwrite, no Terraform needed)
	node tests/infra/terraform/hcl_tools.cjs --write $(TF_MODULE)/*.tf $(TF_MODULE)/modules/*/*.tf $(TF_MODULE)/examples/*/*.tf

# The pinned sets are installed by uv (requirements/uv.txt), which downloads and unpacks in parallel:
# seconds where pip takes minutes. Bytecode is compiled at install, as pip does, so that no process
# compiles a library on every start (PYTHONDONTWRITEBYTECODE keeps the source tree free of caches).
# UV_NATIVE_TLS: the system's certificate store, as pip uses it.
UV_PIP := UV_NATIVE_TLS=1 $(BIN)/uv pip install --quiet --compile-bytecode

# The local runtime is a distribution of its own (src/serverless_local/pyproject.toml), built by the
# hatchling pinned in lock.txt.
$(STAMP): requirements/lock.txt requirements/uv.txt pyproject.toml src/serverless_local/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/uv.txt
	$(UV_PIP) --python $(BIN)/python -r requirements/lock.txt
	$(UV_PIP) --python $(BIN)/python --no-deps -e .
	$(UV_PIP) --python $(BIN)/python --no-deps --no-build-isolation -e src/serverless_local
	@touch $(STAMP)

# The SAM CLI and the AWS CLI in an environment of their own (their pins clash with lock.txt's),
# linked into .venv/bin so that `.venv/bin/sam` and `.venv/bin/aws` (or an activated .venv) run them.
$(AWS_TOOLS_STAMP): requirements/aws-tools.txt $(STAMP)
	@test -x $(AWS_TOOLS)/bin/python || $(PYTHON) -m venv --without-pip $(AWS_TOOLS)
	$(UV_PIP) --python $(AWS_TOOLS)/bin/python -r requirements/aws-tools.txt
	ln -sf ../aws-tools/bin/sam $(BIN)/sam
	ln -sf ../aws-tools/bin/aws $(BIN)/aws
	@touch $@

# The ASL validator of statemachines/ (make test-infra), pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

run: install ## Serve the app locally on http://127.0.0.1:$(PORT) (STATE_DIR keeps the data)
	$(BIN)/serverless-crud serve --port $(PORT) --state-dir $(STATE_DIR)

# Two lanes at once: the end-to-end layer, and everything else one after the other. Alone, the
# end-to-end layer keeps 1.5 of the two cores busy; the other lane runs at the lowest priority
# (nice 19) and takes what it leaves. Side by side at one priority, every request of an end-to-end
# test waited for a core behind the other lane's work and that layer took 2.5 times as long. The
# browser layer, which has time limits of its own, runs last, mostly after the end-to-end layer.
# Each lane's output is shown whole when it ends (--output-sync). (A third worker per lane starved a
# cold function past its 10 s timeout: two each.)
# The set-up too runs two at a time: the Python environments, node_modules and the provider's schema
# download in parallel.
test: ## Everything CI checks: lint, typecheck, docs and every test layer
	@$(MAKE) --no-print-directory -j2 install
	@$(MAKE) --no-print-directory -j2 --output-sync=recurse test-lane-e2e test-lane-rest

test-lane-e2e: install
	@$(MAKE) --no-print-directory -j1 test-e2e

test-lane-rest: install
	@nice -n 19 $(MAKE) --no-print-directory -j1 lint typecheck docs test-unit test-integration test-infra test-browser

lint: install ## ruff
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: install ## mypy --strict on the package
	$(BIN)/mypy

# mkdocs-material prints a notice about its successor on every build; the build itself is what counts.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

docs: install ## Build the documentation site strictly into build/site (a broken link or anchor fails)
	$(MKDOCS) build --strict --quiet

docs-serve: install ## Serve the documentation site on http://127.0.0.1:8000 while you edit
	$(MKDOCS) serve --dev-addr 127.0.0.1:8000

# Two workers (the machine's two cores), each test file on one of them: a module's server, and a
# session's slow tools (cfn-lint and checkov over every template variant), start once per file.
# Files go out in collection order, the modules marked `runs_for` first (tests/conftest.py): xdist's
# own order (most tests first) left the one-test schemathesis modules last, on one worker.
XDIST := -n 2 --dist loadfile --no-loadscope-reorder

test-unit: install ## Unit tests: one module at a time
	$(PYTEST) tests/unit -q $(XDIST)

test-integration: install ## The handler driven by API Gateway events against moto
	$(PYTEST) tests/integration -q $(XDIST)

test-e2e: install ## The local server over HTTP
	$(PYTEST) tests/e2e -q $(XDIST)

# The infrastructure checks are mostly CPU (cfn-lint, checkov, the SAM transform, the Terraform
# module's checks): two workers, each file on one.
test-infra: install ## template.yaml and the Terraform module: cfn-lint, SAM transform, checkov, the real sam validate and sam build; the Terraform module's provider schema and parity
	$(PYTEST) tests/infra -q $(XDIST)

test-browser: install ## The web UI in Chromium (Playwright), against `serverless-crud serve`
	@command -v chromium >/dev/null || test -n "$$CHROMIUM" \
	  || echo "!!!!!!!! NO CHROMIUM FOUND: the browser tests are SKIPPED (make install installs it) !!!!!!!!" >&2
	$(PYTEST) tests/browser -q $(XDIST)

screenshots: install ## Re-take the screenshot baselines docs/screenshots/*.png (every page, phone and desktop, light and dark)
	SCREENSHOTS_UPDATE=1 $(PYTEST) tests/browser/test_screenshots.py -q -k looks_as_its_baseline

bench: install ## Benchmarks: ratios against baselines measured in the same run
	$(BIN)/python -m bench

pages: install ## Write the site header (ui/templates/header.html) into every page of ui/static/
	$(BIN)/python scripts/generate_pages.py

schemas: install ## Regenerate what the record model and the routes make: schemas.json, openapi/apigateway.json, template.yaml's DefinitionBody, docs/record-fields.md
	$(BIN)/python scripts/generate_schemas.py

lock: ## Re-resolve requirements/dev.in into requirements/lock.txt
	rm -rf /tmp/serverless-crud-lock && $(PYTHON) -m venv /tmp/serverless-crud-lock
	/tmp/serverless-crud-lock/bin/pip install --quiet -r requirements/dev.in
	/tmp/serverless-crud-lock/bin/pip freeze --exclude-editable | sort -f > requirements/lock.txt

lock-aws-tools: ## Re-resolve requirements/aws-tools.in into requirements/aws-tools.txt
	rm -rf /tmp/serverless-crud-lock-aws && $(PYTHON) -m venv /tmp/serverless-crud-lock-aws
	/tmp/serverless-crud-lock-aws/bin/pip install --quiet -r requirements/aws-tools.in
	{ echo '# Pinned by `make lock-aws-tools` from requirements/aws-tools.in; installed by `make install` into .venv/aws-tools.'; \
	  /tmp/serverless-crud-lock-aws/bin/pip freeze | sort -f; } > requirements/aws-tools.txt

clean: ## Remove the virtual environment, caches and build output
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build

# -- the function's deployment package -------------------------------------------------------------
# `sam build` runs `make build-<Name>Function` with ARTIFACTS_DIR for each function whose
# BuildMethod is makefile (template.yaml); they share one package, built once by scripts/package.py
# (under a lock: `sam build --parallel` is safe) into build/function-package/ and copied into each
# ARTIFACTS_DIR. It holds serverless_crud, the wheels pinned in requirements/function.txt for the
# function's runtime and architecture (python3.12, arm64; downloaded once into build/wheels/), and
# their bytecode compiled by Python 3.12 (scripts/compile_bytecode.mjs when the building Python is
# another version), so any Python 3 with pip and venv, and Node, builds it.
FUNCTION_PYTHON ?= 3.12
FUNCTION_ARCH ?= aarch64
FUNCTION_REQUIREMENTS := requirements/function.txt
PACKAGE_DIR ?= build/function
PACKAGE_ZIP ?= build/function.zip

build-%Function: $(NODE_STAMP) ## The functions' package into ARTIFACTS_DIR (what `sam build` runs for each function)
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: set ARTIFACTS_DIR (sam build does)" >&2; exit 2; }
	$(PYTHON) scripts/package.py build "$(ARTIFACTS_DIR)" --python $(FUNCTION_PYTHON) --arch $(FUNCTION_ARCH) \
	  --requirements $(FUNCTION_REQUIREMENTS)

deploy: $(AWS_TOOLS_STAMP) $(NODE_STAMP) ## sam build, then sam deploy with samconfig.toml (your AWS credentials; ARGS="--guided" the first time)
	$(BIN)/sam build
	$(BIN)/sam deploy $(ARGS)

package: $(NODE_STAMP) ## The function's package and its zip without SAM (build/function, build/function.zip), with sizes
	rm -rf "$(PACKAGE_DIR)" "$(PACKAGE_ZIP)"
	@$(MAKE) --no-print-directory build-RecordsFunction ARTIFACTS_DIR="$(abspath $(PACKAGE_DIR))"
	$(PYTHON) scripts/package.py zip "$(PACKAGE_DIR)" "$(PACKAGE_ZIP)"
	@$(PYTHON) scripts/package.py report "$(PACKAGE_DIR)" "$(PACKAGE_ZIP)"
