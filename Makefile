# ums-find: `make run` brings everything up and serves on :8080; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: up down run test test-unit test-integration test-e2e lint typecheck check venv tools test-deploy bench

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

up: venv
	bash dev/stack.sh up

down:
	bash dev/stack.sh down

run: up
	$(BIN)/ums-find migrate
	bash dev/run.sh

test: up tools
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test-integration: up
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

test-e2e: up
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/yamllint --strict .
	$(BIN)/hadolint Dockerfile

typecheck: venv
	$(BIN)/mypy

check: lint typecheck test

# kustomize renders k8s/ for the deploy tests; built from the Go module proxy into .run/bin once.
KUSTOMIZE_VERSION := v5.8.1
KUSTOMIZE := .run/bin/kustomize
GO ?= go

tools:
	@$(KUSTOMIZE) version 2>/dev/null | grep -qx '$(KUSTOMIZE_VERSION)' || { \
	  echo "installing kustomize $(KUSTOMIZE_VERSION) into $(KUSTOMIZE)"; \
	  mkdir -p $(dir $(KUSTOMIZE)) && \
	  GOTOOLCHAIN=local GOBIN=$(abspath $(dir $(KUSTOMIZE))) \
	    $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION); }

test-deploy: venv tools
	$(BIN)/pytest tests/deploy $(PYTEST_ARGS)

# Benchmarks beside their baselines (several minutes; BENCH_QUICK=1 for about one): prints the
# table, writes bench/results/ and updates docs/BENCHMARKS.md.
bench: up
	$(BIN)/python -m bench.run
