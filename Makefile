# flink-tm-memory-operator: `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLINK_ORACLE ?= ../shared/oracle/flink-oracle

.DEFAULT_GOAL := help
.PHONY: help setup run test lint types imports unit vectors manifests bench bench-operator clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv with the package and its development tools

run: $(STAMP) ## Derive and show the default TaskManager layout (Flink's shipped 1728m), no cluster needed
	$(BIN)/flink-tm-memory derive

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP) ## mypy --strict
	$(BIN)/mypy

imports: $(STAMP) ## import-linter layer contracts
	$(BIN)/lint-imports

unit: $(STAMP) ## the whole pytest suite (unit, property, conformance, integration, meta)
	$(BIN)/pytest -q

test: lint types imports unit ## Everything CI runs

vectors: $(STAMP) ## Regenerate the conformance vectors from real Flink (needs Java 17 and FLINK_ORACLE)
	$(BIN)/python -m tests.conformance.regenerate --oracle $(FLINK_ORACLE) $(VECTORS_ARGS)

manifests: $(STAMP) ## Regenerate the CRD (manifests/crd/) and the webhook configurations (manifests/webhooks/)
	$(BIN)/python -m flink_tm_memory.api.crd
	$(BIN)/python -m flink_tm_memory webhook-configurations > manifests/webhooks/flink-tm-memory-operator.yaml

bench: $(STAMP) ## Run the benchmarks side by side with Flink (see benchmarks/README.md)
	$(BIN)/python -m compileall -q operator
	$(BIN)/python benchmarks/run.py --oracle $(FLINK_ORACLE)

bench-operator: $(STAMP) ## Reconcile throughput and RSS of the operator, 1000 resources (see benchmarks/README.md)
	$(BIN)/python benchmarks/operator_throughput.py --count 1000

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
