# stackport: two commands set everything up on a fresh machine:
#   make up     the demo stack with Compose (engine, images, credentials included)
#   make test   every test (unit, golden, integration against the real engine, e2e)
SHELL := /bin/bash
# Each script runs as its compiled bundle (scripts/lib/run.mjs, built by `make lib` or on first use),
# with plain node: the scripts use no zx globals, and the zx CLI's own start-up costs more than most
# commands (about 0.5 s of CPU here). STACKPORT_TSX=1 runs the sources through tsx instead.
ZX := node scripts/lib/run.mjs
# Any project: make up FILE=path/compose.yaml (several: FILE="a.yaml b.yaml"), or COMPOSE_FILE=a:b,
# or ARGS="-f a.yaml -f b.yaml". Default: the demo, compose/compose.yaml.
PROJECT_ARGS = $(foreach f,$(FILE),-f $(f)) $(ARGS)

.PHONY: up down clean build smoke status logs test test-unit test-integration typecheck bench-up deps lib prepare

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The library compiled once per change of src/ (esbuild bundle in .stackport/lib/<stamp>/; a few ms
# when fresh). The scripts would build it on first use anyway; STACKPORT_TSX=1 runs src/ through tsx.
lib: node_modules/.package-lock.json
	-@node scripts/lib/build.mjs >/dev/null

deps: node_modules/.package-lock.json lib

up: deps ## start the stack with Compose, wait until healthy, smoke test
	$(ZX) scripts/up.mjs $(PROJECT_ARGS)

down: deps ## stop the stack; data volumes are kept
	$(ZX) scripts/down.mjs $(PROJECT_ARGS)

clean: deps ## stop the stack and remove its data volumes
	$(ZX) scripts/clean.mjs $(PROJECT_ARGS)

build: deps ## build the stack's images, only what changed (WEB_VERSION=2 make build -> stackport-web:2)
	$(ZX) scripts/build.mjs

smoke: deps ## run the smoke suite against the running stack
	$(ZX) scripts/smoke.mjs $(PROJECT_ARGS)

status: deps ## engine, Compose and per-service state
	$(ZX) scripts/status.mjs $(PROJECT_ARGS)

logs: deps ## recent logs (make logs ARGS="--follow web")
	$(ZX) scripts/logs.mjs $(PROJECT_ARGS)

typecheck: deps
	npx --no-install tsc --noEmit -p tsconfig.json

test: deps ## typecheck, then every jest project; prints "N passed, N failed"
	node scripts/test.mjs

prepare: deps ## the cold builds the tests need (engine, Compose, images, cluster, node image), each timed; make test runs it first
	$(ZX) scripts/prepare.mjs

test-unit: deps
	node scripts/test.mjs --projects unit golden

test-integration: deps
	node scripts/test.mjs --projects integration

bench-up: deps ## make up vs plain docker compose up, medians and ratio
	$(ZX) scripts/bench/up.mjs

# ---------------------------------------------------------------- generator
.PHONY: generate generate-check bench-generate kompose
generate: deps ## compose/compose.yaml -> manifests/ (kustomize base + overlays/kind, overlays/kubeadm; secrets in git-ignored base/secrets/)
	$(ZX) scripts/generate.mjs

generate-check: deps ## fail with a diff when manifests/ is stale (the documented defaults; needs no compose/.env)
	$(ZX) scripts/generate.mjs --check

KOMPOSE_VERSION := v1.38.0
KOMPOSE_BIN := $(HOME)/.cache/stackport/kompose-$(KOMPOSE_VERSION)/kompose

# kompose from its Go module, for the side-by-side bench. `go install ...@v1.38.0` fails here (the module
# proxy answers 403 for kompose's version list, which go install reads for deprecations); the module
# itself downloads, and builds as the main module (its go.mod replace directive applies only then).
$(KOMPOSE_BIN):
	set -e; d=$$(mktemp -d); cd $$d; go mod init kompose-build >/dev/null 2>&1; \
	  src=$$(go mod download -json github.com/kubernetes/kompose@$(KOMPOSE_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	  cp -r $$src $$d/src; chmod -R u+w $$d/src; cd $$d/src; mkdir -p $(dir $@); \
	  GOFLAGS=-mod=mod nice -n 10 go build -o $@.tmp . && mv $@.tmp $@; rm -rf $$d

kompose: $(KOMPOSE_BIN) ## build kompose $(KOMPOSE_VERSION) from its Go module (for bench-generate)

bench-generate: deps ## start-up of generate/k8s/status, then the generator on 10/100/1,000 services; kompose side by side when built (make kompose)
	$(ZX) scripts/bench/generate.mjs $(if $(wildcard $(KOMPOSE_BIN)),--kompose $(KOMPOSE_BIN)) $(ARGS)

# ---------------------------------------------------------------- cluster
PROVIDER ?= kubeadm
.PHONY: cluster-up cluster-down cluster-status bench-cluster
cluster-up: deps ## single-node Kubernetes 1.34 on this host (builds once, cached); prints export KUBECONFIG=...
	$(ZX) scripts/cluster.mjs up --provider $(PROVIDER)

cluster-down: deps
	$(ZX) scripts/cluster.mjs down --provider $(PROVIDER)

cluster-status: deps
	$(ZX) scripts/cluster.mjs status --provider $(PROVIDER)

bench-cluster: deps ## cold build, then time-to-k8s for fresh, warm and restart up; median (min-max) beside the targets (ARGS="--no-cold --rows fresh --runs 3")
	$(ZX) scripts/bench/cluster.mjs $(ARGS)

# ---------------------------------------------------------------- migration and day two
.PHONY: migrate k8s-status scale update rollback bench-update bench-migrate bench-autoscale
migrate: deps ## the running Compose stack -> the cluster, data moved, smoke-tested (ARGS="--cutover")
	$(ZX) scripts/migrate.mjs --provider $(PROVIDER) $(PROJECT_ARGS)

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

.PHONY: bench-deliver registry-up registry-down registry-status
bench-deliver: deps ## images to a node: registry vs docker save | ctr import vs kind load, first delivery and a one-line change (ARGS="--runs=5")
	$(ZX) scripts/bench/deliver.mjs $(ARGS)

registry-up: deps ## the local registry (CNCF distribution, Debian package) on 127.0.0.1:5001, wired into local clusters
	$(ZX) scripts/cluster.mjs registry up

registry-down: deps
	$(ZX) scripts/cluster.mjs registry down

registry-status: deps
	$(ZX) scripts/cluster.mjs registry status

# ---------------------------------------------------------------- kind
.PHONY: cluster-up-kind cluster-down-kind bench-cluster-kind test-kind-failover
cluster-up-kind: deps ## kind cluster (1 node; NODES=3 for control plane + 2 workers)
	$(ZX) scripts/cluster.mjs up --provider kind $(if $(NODES),--nodes $(NODES))

cluster-down-kind: deps
	$(ZX) scripts/cluster.mjs down --provider kind

bench-cluster-kind: deps
	$(ZX) scripts/bench/cluster.mjs --provider kind --no-cold --runs 1

test-kind-failover: deps ## multi-node kind: registry delivery, a worker dies under load, a dockerd restart (about 9 minutes)
	STACKPORT_E2E_KIND=1 node scripts/test.mjs --run kind-failover --projects e2e -- tests/e2e/kind-failover

bench-autoscale: deps ## load drives the web autoscaler out and back in; figures + docs/autoscale.svg
	$(ZX) scripts/bench/autoscale.mjs $(ARGS)

# ---------------------------------------------------------------- the daily loop
.PHONY: dev bench-dev
dev: deps ## watch and put each edit live (sync or rebuild+roll); ARGS="--target cluster --namespace NS"
	$(ZX) scripts/dev.mjs $(ARGS)

bench-dev: deps ## edit-to-live, make dev vs manual rebuild, Compose and cluster, medians of 5 (ARGS="--runs 3 --manual-runs 1 --target compose")
	$(ZX) scripts/bench/dev.mjs $(ARGS)
