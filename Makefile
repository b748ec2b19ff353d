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

# kustomize renders k8s/ for the deploy tests, promtool unit-tests the alerting rules and
# kube-score lints the manifests: built from the Go module proxy into .run/bin once (on a busy
# 2-core machine about 1 min for kustomize and kube-score each, 5 min for promtool, which is
# built without Prometheus's service discovery plugins: rule tests need none, and they were
# half its compile time).
KUSTOMIZE_VERSION := v5.8.1
PROMTOOL_VERSION := v0.316.0
KUBE_SCORE_VERSION := v1.20.0
TOOLS_BIN := .run/bin
KUSTOMIZE := $(TOOLS_BIN)/kustomize
GO ?= go
GO_INSTALL = mkdir -p $(TOOLS_BIN) && GOTOOLCHAIN=local GOBIN=$(abspath $(TOOLS_BIN)) $(GO) install

tools:
	@$(KUSTOMIZE) version 2>/dev/null | grep -qx '$(KUSTOMIZE_VERSION)' || { \
	  echo "installing kustomize $(KUSTOMIZE_VERSION) into $(KUSTOMIZE)"; \
	  $(GO_INSTALL) sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION); }
	@grep -qx '$(PROMTOOL_VERSION) remove_all_sd' $(TOOLS_BIN)/promtool.version 2>/dev/null || { \
	  echo "installing promtool $(PROMTOOL_VERSION) into $(TOOLS_BIN) (several minutes)"; \
	  $(GO_INSTALL) -tags remove_all_sd github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION) && \
	  echo '$(PROMTOOL_VERSION) remove_all_sd' > $(TOOLS_BIN)/promtool.version; }
	@grep -qx '$(KUBE_SCORE_VERSION)' $(TOOLS_BIN)/kube-score.version 2>/dev/null || { \
	  echo "installing kube-score $(KUBE_SCORE_VERSION) into $(TOOLS_BIN)"; \
	  $(GO_INSTALL) github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION) && \
	  echo '$(KUBE_SCORE_VERSION)' > $(TOOLS_BIN)/kube-score.version; }

test-deploy: venv tools
	$(BIN)/pytest tests/deploy $(PYTEST_ARGS)

# Benchmarks beside their baselines (several minutes; BENCH_QUICK=1 for about one): prints the
# table, writes bench/results/ and updates docs/BENCHMARKS.md.
bench: up
	$(BIN)/python -m bench.run
