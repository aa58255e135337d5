# The two commands: `make dev` runs the platform, `make test` runs the whole suite.
SHELL := /bin/bash
# uv from PATH, or where `pip install --user` (check-tools) puts it.
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_LINK_MODE ?= copy

# The web portal's dependencies: `npm ci` again whenever the lock file changed.
WEB_DEPS := web/node_modules/.package-lock.json

.PHONY: web-lint web-build dev test test-platform test-rest faults unit lint typecheck schemas asyncapi bench infra-up infra-down install check-tools

check-tools:
	@test -x "$(UV)" || command -v $(UV) >/dev/null || { echo "installing uv (pip --user)"; python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv; }
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'

install: check-tools
	$(UV) sync --frozen

dev: install
	$(UV) run python deploy/local/dev.py

# Two lanes at once, each its own pytest session on its own Kafka and FerretDB (two cores):
# the platform's suites (end to end, browser, bounded faults: mostly waiting on the running
# platform) beside the linters and the suites that need no platform (mostly CPU). Each
# lane's output is printed when it ends; the slowest 40 tests of each close it.
PLATFORM_SUITES := tests/e2e tests/web tests/faults
REST_KAFKA_PORT ?= 19292
REST_KAFKA_CONTROLLER_PORT ?= 19293
REST_FERRETDB_PORT ?= 27038
REST_INFRA_DIR ?= $(CURDIR)/.cache/local-infra/rest
REST_INFRA = PORTAL_INFRA_DIR=$(REST_INFRA_DIR) KAFKA_PORT=$(REST_KAFKA_PORT) KAFKA_CONTROLLER_PORT=$(REST_KAFKA_CONTROLLER_PORT) FERRETDB_PORT=$(REST_FERRETDB_PORT)

test: install web-build
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-platform test-rest

test-platform: install web-build
	$(UV) run pytest --durations=40 $(PLATFORM_SUITES)

test-rest: install lint typecheck
	$(REST_INFRA) $(UV) run pytest --durations=40 $(addprefix --ignore=,$(PLATFORM_SUITES))

# kill -9 of every process in turn under load, longer outages than `make test`'s run.
faults: install
	PORTAL_FAULTS_FULL=1 $(UV) run pytest tests/faults -x -q -s -o timeout=1800

unit: install
	$(UV) run pytest -m "not integration and not e2e"

lint: install web-lint
	$(UV) run ruff check .

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-lint: $(WEB_DEPS)
	cd web && npm run typecheck && npm run lint

# web/dist for the browser tests (the gateway serves it): rebuilt only when a source changed.
web-build: install
	$(UV) run python -c "from portal_tests.webbuild import ensure_web_build; ensure_web_build()"

typecheck: install
	$(UV) run mypy

schemas: install $(WEB_DEPS)
	$(UV) run python -m portal_contracts.schemas
	$(UV) run python -m portal_tests.asyncapi
	$(UV) run python -m portal_tests.openapi
	cd web && npm run gen:api -- ../gateway/src/portal_gateway/openapi.json

asyncapi: schemas

deploy-check: install ; $(UV) run python deploy/tools/check.py

bench: install
	$(UV) run python -m portal_bench.topup

infra-up:
	bash deploy/local/infra.sh start

infra-down:
	bash deploy/local/infra.sh stop
