# Postdesk: `make run` (embedded mode on http://127.0.0.1:8000) and `make test` (everything).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BACKEND_STAMP := $(VENV)/.installed-$(shell md5sum pyproject.toml | cut -c1-8)
NPM_STAMP := frontend/node_modules/.installed-$(shell md5sum frontend/package-lock.json 2>/dev/null | cut -c1-8)
SPA_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: run test install system-deps spa openapi test-backend test-embedded test-production test-frontend test-e2e \
        worker migrate lint clean sandbox sandbox-samples

run: install spa
	$(VENV)/bin/postdesk run

install: $(BACKEND_STAMP)

$(PY):
	@scripts/check-python.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)

$(BACKEND_STAMP): pyproject.toml | $(PY)
	@scripts/check-python.sh $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# `npm install` rather than `npm ci`: with this machine's omit-lockfile-registry-resolved setting, npm ci
# rejects lock files that lack other platforms' optional packages; install still follows the lock.
$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm install --no-audit --no-fund --loglevel=error
	rm -f frontend/node_modules/.installed-* && touch $@

spa: frontend/dist/index.html

frontend/dist/index.html: $(NPM_STAMP) $(SPA_SOURCES)
	cd frontend && npm run build

# Regenerate the committed OpenAPI document and the TypeScript client from the app.
openapi: install $(NPM_STAMP)
	$(VENV)/bin/postdesk openapi
	cd frontend && npm run generate-client

system-deps:
	@scripts/system-deps.sh

test: system-deps install spa
	$(MAKE) test-backend test-frontend test-e2e

# Both modes at once: the suite waits on mail servers and subprocesses more than on the CPU.
test-backend: install
	scripts/test-backend.sh $(PY)

test-embedded: install
	POSTDESK_TEST_MODE=embedded $(PYTEST) backend/tests --ignore=backend/tests/e2e -q

test-production: install
	POSTDESK_TEST_MODE=production $(PYTEST) backend/tests --ignore=backend/tests/e2e \
	  --ignore=backend/tests/mail --ignore=backend/tests/net -q

test-frontend: $(NPM_STAMP)
	cd frontend && npm run check-client && npm run typecheck && npm test

test-e2e: install spa
	$(PYTEST) backend/tests/e2e -q

worker: install
	$(VENV)/bin/postdesk worker

# Local mail sandbox on 127.0.0.1 (SMTP 2525, IMAP 1143, POP3 1110); needs Dovecot installed, not root.
sandbox: install
	$(VENV)/bin/postdesk sandbox

sandbox-samples: install
	$(VENV)/bin/postdesk sandbox send-samples

migrate: install
	$(VENV)/bin/postdesk migrate

lint: install
	$(VENV)/bin/ruff check backend

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist

# Inbound pipeline benchmark (not a test): throughput vs raw IMAP fetch, memory, APPEND→event latency.
.PHONY: bench-inbound
bench-inbound: install
	$(PY) bench/inbound.py
