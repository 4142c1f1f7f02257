# stackport: two commands set everything up on a fresh machine:
#   make up     the demo stack with Compose (engine, images, credentials included)
#   make test   every test (unit, golden, integration against the real engine, e2e)
SHELL := /bin/bash
# node_modules/.bin/zx directly: npx's own lookup costs about half a second per command.
ZX := node_modules/.bin/zx

.PHONY: up down clean smoke status logs test test-unit test-integration typecheck bench-up deps

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
