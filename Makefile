# One entry point for everything a newcomer or CI runs. See README.md.
#   make test          every tier (sanity, unit, lint, integration, faults, node, molecule) + one summary line each
#   make sanity|unit|lint|integration|faults|node|molecule   one tier
#   make cluster-up|cluster-env|cluster-down|cluster-status|cluster-build   the local control plane
#   make demo          the whole flow (k3d when Docker is there, else the local control plane)
#   make bench         benchmarks: the archive (1M rows), then the no-change runs of the site flow (print tables)
SHELL := /bin/bash
.DEFAULT_GOAL := help

REPO    := $(abspath .)
VENV    := $(REPO)/.venv
BUILD   := $(REPO)/.build
TOOLS   := $(REPO)/tests/tools
PY      := $(VENV)/bin/python
TIER    := BUILD=$(BUILD) $(PY) $(TOOLS)/run_tier.py
# Everything ansible-* runs must find this collection and the ones it depends on.
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help venv layout test sanity unit lint integration faults node molecule bench \
        cluster-up cluster-env cluster-down cluster-status cluster-build demo build changelog clean

help:
	@sed -n '1,8p' Makefile | sed 's/^# \{0,1\}//'

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(TOOLS)/bootstrap-venv.sh "$(VENV)"

layout: venv
	@$(TOOLS)/layout.sh "$(BUILD)"

# `make test` runs every tier even when one fails, then fails if any failed or if no test ran.
test: layout
	@rm -f $(BUILD)/results/*.summary
	@rc=0; for t in sanity unit lint integration faults node molecule; do \
	  $(MAKE) --no-print-directory $$t || rc=1; done; \
	$(TIER) --report $(BUILD)/results || rc=1; exit $$rc

sanity: layout
	@$(TIER) sanity -- $(TOOLS)/sanity.sh "$(BUILD)"

unit: layout
	@$(TIER) unit --junit $(BUILD)/results/unit.xml -- \
	  $(PY) -m pytest -p no:cacheprovider tests/unit --junitxml=$(BUILD)/results/unit.xml -q

lint: layout
	@$(TIER) lint -- $(TOOLS)/lint.sh

# Build (or find cached) the control-plane binaries first, so their progress and timings show in the log.
integration: layout
	@$(PY) tests/controlplane/cluster.py build
	@$(TIER) integration --junit $(BUILD)/results/integration.xml -- \
	  $(PY) -m pytest -p no:cacheprovider tests/integration --ignore=tests/integration/faults \
	  --junitxml=$(BUILD)/results/integration.xml -q -rs

# Faults on purpose (PostgreSQL stopped mid-prune, inserts during a prune): after the
# integration tier, never beside it, since they stop the shared pieces of the local control plane.
faults: layout
	@$(PY) tests/controlplane/cluster.py build
	@$(TIER) faults --junit $(BUILD)/results/faults.xml -- \
	  $(PY) -m pytest -p no:cacheprovider tests/integration/faults --junitxml=$(BUILD)/results/faults.xml -q -rs

# The real node (containerd, kubelet, kube-proxy, CoreDNS, storage): binaries and images first.
node: layout
	@$(PY) tests/controlplane/cluster.py build --node real
	@$(TIER) node --junit $(BUILD)/results/node.xml -- \
	  $(PY) -m pytest -p no:cacheprovider tests/node --junitxml=$(BUILD)/results/node.xml -q -rs

molecule: layout
	@$(TIER) molecule -- $(TOOLS)/molecule.sh

build: layout
	@mkdir -p $(BUILD)/dist && ansible-galaxy collection build --force --output-path $(BUILD)/dist .

changelog: venv
	@antsibull-changelog release --is-collection yes

clean:
	rm -rf $(BUILD) tests/output

# ---- local control plane (tests/controlplane): real etcd, kube-apiserver, controller-manager,
# scheduler, a kwok or real node and PostgreSQL as local processes; binaries and images built once
# and cached outside the repo.
# NODE=real: a real node instead of kwok's fake one (see tests/controlplane/README.md)
NODE ?= kwok
cluster-up: layout
	@$(PY) tests/controlplane/cluster.py up --node $(NODE)
cluster-env:
	@$(PY) tests/controlplane/cluster.py env
cluster-down:
	@$(PY) tests/controlplane/cluster.py down
cluster-status:
	@$(PY) tests/controlplane/cluster.py status
cluster-build: venv
	@$(PY) tests/controlplane/cluster.py build --node $(NODE)

# ---- the whole flow and the benchmark
demo: layout
	@tests/tools/demo.sh
bench: layout
	@$(PY) tests/bench/archive_bench.py
	@$(PY) tests/controlplane/cluster.py build
	@$(PY) tests/bench/site_bench.py
