# stackport: two commands set everything up on a fresh machine:
#   make up     the demo stack with Compose (engine, images, credentials included)
#   make test   every test (unit, golden, integration against the real engine, e2e)
SHELL := /bin/bash
# node_modules/.bin/zx directly: npx's own lookup costs about half a second per command.
ZX := node_modules/.bin/zx

.PHONY: up down clean build smoke status logs test test-unit test-integration typecheck bench-up deps

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

up: deps ## start the stack with Compose, wait until healthy, smoke test
	$(ZX) scripts/up.mjs

down: deps ## stop the stack; data volumes are kept
	$(ZX) scripts/down.mjs

clean: deps ## stop the stack and remove its data volumes
	$(ZX) scripts/clean.mjs

build: deps ## build the stack's images, only what changed (WEB_VERSION=2 make build -> stackport-web:2)
	$(ZX) scripts/build.mjs

smoke: deps ## run the smoke suite against the running stack
	$(ZX) scripts/smoke.mjs

status: deps ## engine, Compose and per-service state
	$(ZX) scripts/status.mjs

logs: deps ## recent logs (make logs ARGS="--follow web")
	$(ZX) scripts/logs.mjs $(ARGS)

typecheck: deps
	npx --no-install tsc --noEmit -p tsconfig.json

test: deps ## typecheck, then every jest project; prints "N passed, N failed"
	node scripts/test.mjs

test-unit: deps
	node scripts/test.mjs --projects unit golden

test-integration: deps
	node scripts/test.mjs --projects integration

bench-up: deps ## make up vs plain docker compose up, medians and ratio
	$(ZX) scripts/bench/up.mjs

# ---------------------------------------------------------------- generator
.PHONY: generate generate-check bench-generate
generate: deps ## compose/compose.yaml -> manifests/ (kustomize base + overlays/kind, overlays/kubeadm)
	$(ZX) scripts/generate.mjs -f compose/compose.yaml -o manifests --project-name stackport

generate-check: deps ## fail with a diff when manifests/ is stale
	$(ZX) scripts/generate.mjs -f compose/compose.yaml -o manifests --project-name stackport --check

bench-generate: deps ## generator on 10..5,000 synthetic services (kompose side by side with KOMPOSE=<path>)
	$(ZX) scripts/bench/generate.mjs

# ---------------------------------------------------------------- cluster
PROVIDER ?= kubeadm
.PHONY: cluster-up cluster-down cluster-status bench-cluster
cluster-up: deps ## single-node Kubernetes 1.34 on this host (builds once, cached); prints export KUBECONFIG=...
	$(ZX) scripts/cluster.mjs up --provider $(PROVIDER)

cluster-down: deps
	$(ZX) scripts/cluster.mjs down --provider $(PROVIDER)

cluster-status: deps
	$(ZX) scripts/cluster.mjs status --provider $(PROVIDER)

bench-cluster: deps ## cold build, warm up to Ready, down; medians (ARGS="--no-cold --runs 5")
	$(ZX) scripts/bench/cluster.mjs $(ARGS)

# ---------------------------------------------------------------- migration and day two
.PHONY: migrate k8s-status scale update rollback bench-update bench-migrate bench-autoscale
migrate: deps ## the running Compose stack -> the cluster, data moved, smoke-tested (ARGS="--cutover")
	$(ZX) scripts/migrate.mjs --provider $(PROVIDER) $(ARGS)

k8s-status: deps ## nodes, control plane, services on the cluster
	$(ZX) scripts/k8s.mjs status --provider $(PROVIDER)

scale: deps ## make scale SERVICE=web REPLICAS=3
	$(ZX) scripts/k8s.mjs scale $(SERVICE)=$(REPLICAS) --provider $(PROVIDER)

update: deps ## make update SERVICE=web IMAGE=stackport-web:2 (rolling update)
	$(ZX) scripts/k8s.mjs update $(SERVICE) --image $(IMAGE) --provider $(PROVIDER)

rollback: deps ## make rollback SERVICE=web
	$(ZX) scripts/k8s.mjs rollback $(SERVICE) --provider $(PROVIDER)

bench-update: deps ## the same page update, Compose vs Kubernetes, under load; draws docs/rolling-update.svg
	$(ZX) scripts/bench/update.mjs --provider=$(PROVIDER)

bench-migrate: deps ## migrate from a running Compose stack, warm caches, several runs, medians
	$(ZX) scripts/bench/migrate.mjs --provider=$(PROVIDER) $(ARGS)

# ---------------------------------------------------------------- kind
.PHONY: cluster-up-kind cluster-down-kind bench-cluster-kind test-kind-failover
cluster-up-kind: deps ## kind cluster (1 node; NODES=3 for control plane + 2 workers)
	$(ZX) scripts/cluster.mjs up --provider kind $(if $(NODES),--nodes $(NODES))

cluster-down-kind: deps
	$(ZX) scripts/cluster.mjs down --provider kind

bench-cluster-kind: deps
	$(ZX) scripts/bench/cluster.mjs --provider kind --no-cold --runs 1

test-kind-failover: deps ## multi-node kind: a worker dies under load (about 11 minutes)
	STACKPORT_E2E_KIND=1 node scripts/test.mjs --run kind-failover --projects e2e -- tests/e2e/kind-failover

bench-autoscale: deps ## load drives the web autoscaler out and back in; figures + docs/autoscale.svg
	$(ZX) scripts/bench/autoscale.mjs $(ARGS)
