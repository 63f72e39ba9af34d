# flink-tm-memory-operator: `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLINK_ORACLE ?= ../shared/oracle/flink-oracle
TOOLS := .tools/e2e/bin
VERSION ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE ?= ghcr.io/flink-tm-memory/flink-tm-memory-operator:$(VERSION)
CHART := charts/flink-tm-memory-operator

.DEFAULT_GOAL := help
.PHONY: help setup tools node-packages images cluster run test lint types imports unit chart verify reliability e2e vectors manifests lock image bench bench-operator bench-operator-large bench-webhook clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv with the package and its development tools

tools: ## Build kubectl, Helm, the control plane, kubelet and kube-scheduler from their Go modules into .tools/
	tests/e2e/controlplane/build.sh $(TOOLS)

node-packages: ## Install what the real node needs from Debian (containerd, runc, docker.io, mmdebstrap, CNI plugins; root)
	tests/e2e/node/install-packages.sh

images: node-packages ## Build the node's images (pause, the operator from the Dockerfile, Flink) into .tools/images
	$(PYTHON) -m tests.e2e.node.images

cluster: tools node-packages ## A real single-node cluster (in its own network namespace) with the images, until Ctrl-C (root)
	$(PYTHON) -m tests.e2e.node.cluster .tools/cluster

run: $(STAMP) ## Derive and show the default TaskManager layout (Flink's shipped 1728m), no cluster needed
	$(BIN)/flink-tm-memory derive

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP) ## mypy --strict
	$(BIN)/mypy

imports: $(STAMP) ## import-linter layer contracts
	$(BIN)/lint-imports

unit: $(STAMP) ## unit, property, conformance, integration, reliability and meta tests (no Go needed); branch coverage of memory/ and api/ >= 98 %
	$(BIN)/pytest -q --ignore=tests/e2e -m "not helm" --cov --cov-report=term

chart: $(STAMP) tools ## The chart rendered by real Helm: schemas, RBAC coverage, hygiene, install.yaml (builds Helm)
	$(BIN)/pytest -q --ignore=tests/e2e -m helm

verify: $(STAMP) tools ## Every generated file (CRD, its chart copy, webhook configurations, install.yaml) is current
	$(BIN)/python -m tests.generated --check

reliability: $(STAMP) ## API faults, kills, watch expiry at scale (part of unit); RELIABILITY_COUNT/_EDIT_ROUNDS/_SEED
	$(BIN)/pytest -q -s tests/reliability

e2e: $(STAMP) tools node-packages ## End-to-end: a real node, the operator in its pod, Flink in pods (root; builds images once)
	$(BIN)/pytest -q tests/e2e

test: lint types imports verify unit chart e2e ## Everything CI runs

vectors: $(STAMP) ## Regenerate the conformance vectors from real Flink (needs Java 17 and FLINK_ORACLE)
	$(BIN)/python -m tests.conformance.regenerate --oracle $(FLINK_ORACLE) $(VECTORS_ARGS)
	$(BIN)/python -m tests.conformance.option_keys --oracle $(FLINK_ORACLE)

manifests: $(STAMP) tools ## Regenerate the CRD, webhook configurations, the chart's CRD copy and manifests/install.yaml
	$(BIN)/python -m tests.generated

PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

lock: $(STAMP) ## Re-lock the image's runtime dependencies and the SBOM tool, with hashes (requirements*.lock)
	$(PIP_COMPILE) --upgrade --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --upgrade --output-file requirements-sbom.lock requirements-sbom.in

SBOM ?= .tools/images/flink-tm-memory-operator.cdx.json

image: ## Build the operator image (needs a Docker engine) and write its CycloneDX SBOM to $(SBOM)
	docker build -t $(IMAGE) .
	mkdir -p $(dir $(SBOM))
	container=$$(docker create $(IMAGE)) \
	    && docker cp $$container:/usr/share/doc/flink-tm-memory-operator/sbom.cdx.json $(SBOM); \
	    status=$$?; docker rm --force $$container >/dev/null; exit $$status

bench: $(STAMP) ## Run the benchmarks side by side with Flink (see benchmarks/README.md)
	$(BIN)/python -m compileall -q operator
	$(BIN)/python benchmarks/run.py --oracle $(FLINK_ORACLE)

bench-operator: $(STAMP) ## Operator throughput, CPU and RSS at 1000 resources, 3 runs beside main's (see benchmarks/README.md)
	$(BIN)/python benchmarks/operator_throughput.py --count 1000 --runs 3 --reference main

bench-operator-large: $(STAMP) ## The same at 10000 resources, one run each (about 10 minutes)
	$(BIN)/python benchmarks/operator_throughput.py --count 10000 --runs 1 --reference main

# The tree before issue 14's admission work (the webhooks on kopf's event loop): the figures' reference.
WEBHOOK_REFERENCE ?= ac6ca6c
WEBHOOK_SCENARIOS ?= mutate-pod,mutate-pod-reconciling

bench-webhook: $(STAMP) ## Admission webhook latency over HTTPS at 200 requests/s, beside the tree before issue 14's (see benchmarks/README.md)
	$(BIN)/python -m compileall -q operator
	$(BIN)/python benchmarks/webhook_latency.py --reference $(WEBHOOK_REFERENCE) --scenarios $(WEBHOOK_SCENARIOS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage
