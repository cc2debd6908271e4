# sp_assets: the two Quick start commands are `make demo` and `make test`.
# Each creates or reuses .venv and installs the pinned dependencies by itself.
#
#   make demo       sandbox + every asset for the last 7 days through Dagster, then a summary (headless)
#   make dev        sandbox + Dagster webserver + daemon on http://127.0.0.1:3000 (Ctrl-C stops all three);
#                   with credentials in the environment or .env: Amazon, no sandbox
#   make test       the whole test suite, end-to-end tests included (what CI runs)
#   make test-long  the long variants only
#   make test-busy  `make test` while 4 CPU-bound processes compete (stress-ng if present, else 4 python
#                   busy loops); they are always stopped, pass or fail. Proves no test depends on speed.
#   make lint       ruff check, then mypy (pyproject.toml) with no error in sp_assets; CI runs it after
#                   `make test`
#   make bench      the benchmarks, results in BENCHMARKS.md
#   make bench-busy `make bench` while 2 CPU-bound processes compete (the ratios must hold under load)
#   make postgres-server  Debian's PostgreSQL for the instance test (make test runs it; installs only if missing)
#   make ui-check   after `make demo`: make dev on its home, a small backfill, then headless Chromium over the
#                   UI's main pages; fails on any page or console error; screenshots in data/ui-check/.
#                   Installs what it needs itself (playwright into .venv, Debian's chromium). Not in `make test`.
#
# The sandbox is used only when asked for: SP_ASSETS_SANDBOX=1, which demo, dev (without credentials)
# and the tests (sp_assets_tests/conftest.py) set themselves. Without it and without credentials a run
# fails before it writes anything.
#
# PYTHON: the first of python3, python3.13, python3.12, python3.11 that is 3.11-3.13 (override: PYTHON=...).
SUPPORTED := import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c '$(SUPPORTED)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-long test-busy dev bench bench-busy lint install clean postgres-server ui-check

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "sp_assets needs Python 3.11, 3.12 or 3.13 (python3.11 ... on PATH, or make PYTHON=/path/to/python)"; exit 1; }
	@$(PYTHON) -c '$(SUPPORTED)' || { echo "$(PYTHON) is not Python 3.11-3.13; set PYTHON=python3.11 (or 3.12, 3.13)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "could not create $(VENV) with $(PYTHON) (on Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sp_assets.demo

test: $(STAMP) postgres-server
	$(BIN)/python -m pytest -q

test-long: $(STAMP)
	$(BIN)/python -m pytest -q -m long -o addopts=""

dev: $(STAMP)
	$(BIN)/python -m sp_assets.dev

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

CHROMIUM ?= /usr/bin/chromium
ui-check: $(STAMP)
	@$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m pip install --quiet playwright
	@test -x $(CHROMIUM) || { apt-get update -qq && apt-get install -y -qq chromium; } || \
		{ echo "ui-check needs Chromium at $(CHROMIUM): apt-get install chromium (as root)"; exit 1; }
	SP_ASSETS_CHROMIUM=$(CHROMIUM) $(BIN)/python -m sp_assets.ui_check

# `make <target>` while BUSY CPU-bound processes compete (stress-ng if present, else python busy loops);
# they are always stopped, pass or fail. test-busy: 4 beside the suite; bench-busy: 2 beside make bench.
define compete
	@set -u; pids=""; trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	if command -v stress-ng >/dev/null 2>&1; then stress-ng --cpu $(1) --quiet & pids="$$!"; \
	else for i in $$(seq $(1)); do $(BIN)/python -c 'while 1: pass' & pids="$$pids $$!"; done; fi; \
	echo "$(1) CPU-bound processes compete (pids $$pids)"; started=$$(date +%s); \
	$(MAKE) --no-print-directory $(2); status=$$?; \
	echo "make $(2) under CPU contention ($(1) busy processes): exit $$status after $$(( $$(date +%s) - started )) s"; \
	exit $$status
endef

test-busy: $(STAMP)
	$(call compete,4,test)

bench-busy: $(STAMP)
	$(call compete,2,bench)

# The PostgreSQL instance test (sp_assets_tests/e2e/test_postgres_instance.py) starts Debian's server
# itself; this installs the package when it is missing and we may (root, apt-get). Otherwise the test
# is skipped, saying why.
postgres-server:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's postgresql for the PostgreSQL instance test"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null || \
			echo "could not install postgresql: the PostgreSQL instance test will be skipped"; \
		else echo "PostgreSQL's server is not installed: the PostgreSQL instance test will be skipped"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check sp_assets sp_assets_tests benchmarks
	$(BIN)/mypy sp_assets

clean:
	rm -rf .dagster_home data .pytest_cache
