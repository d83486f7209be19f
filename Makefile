# Faros developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/faros: pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

.PHONY: venv
venv: $(BIN)/faros ## Python virtualenv with Faros and its test tools

.PHONY: install
install: venv ## Everything the tests need: venv, Debian packages, control-plane binaries
	hack/install-system-deps.sh
	$(BIN)/python -m faros.testing.binaries build

.PHONY: run
run: venv ## Run Faros: `faros run` against the current kubeconfig, else `faros dev` (a local control plane)
	@if $(BIN)/python -c 'from faros.kube import client; client.Kube.connect().close()' 2>/dev/null; \
	then exec $(BIN)/faros run; \
	else echo "no usable kubeconfig: starting faros dev (a local control plane and an example)"; \
	exec $(BIN)/faros dev; fi

.PHONY: fmt
fmt: venv ## Format and fix lint
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: check
check: venv ## Format check, lint, types, layer contracts
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: unit
unit: venv ## Unit tests only (pure, seconds)
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

.PHONY: bench
bench: venv ## GitOps benchmark, Faros vs kubectl (BENCH_ARGS="--objects 200"; docs/benchmarks.md)
	$(BIN)/python -m bench.gitops $(BENCH_ARGS)

.PHONY: bench-sources
bench-sources: venv ## Many-sources benchmark (BENCH_ARGS="--gittracks 100"; docs/benchmarks.md)
	$(BIN)/python -m bench.sources $(BENCH_ARGS)

.PHONY: test
test: install check ## Everything CI runs: install, check, unit + integration + heavy tests
	$(BIN)/pytest -q $(PYTEST_ARGS)
