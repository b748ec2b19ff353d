# ums-find: `make run` brings everything up and serves on :8080; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: up down run test test-unit test-integration test-e2e lint typecheck check venv bench

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

test: up
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

typecheck: venv
	$(BIN)/mypy

check: lint typecheck test

# Benchmarks beside their baselines (several minutes; BENCH_QUICK=1 for about one): prints the
# table, writes bench/results/ and updates docs/BENCHMARKS.md.
bench: up
	$(BIN)/python -m bench.run
