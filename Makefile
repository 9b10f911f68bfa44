# The two set-up commands of the README: `make demo` and `make test`.
# Everything they need is installed here, into .venv, tests/interop/node,
# .venv-flask-suite (Flask's own tests and the pytest they need), and Debian's
# chromium (the browser tests) and redis-server (the RedisStore tests).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
NODE_DIR := tests/interop/node

.PHONY: demo test install node browser redis flask-suite lint typecheck docs bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,mongo,crypto,redis,docs]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

node:
	@if [ -f $(NODE_DIR)/package.json ]; then \
		cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error; \
	fi

browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

redis:
	@if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then \
		echo "installing Debian's redis-server for the RedisStore tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; \
	fi

demo: install
	$(BIN)/flask --app examples.app run --host 127.0.0.1 --port 5000

test: install node browser redis
	$(BIN)/python -m pytest
	$(MAKE) flask-suite lint typecheck

# Flask's own session, flash and request-context tests, unchanged, with
# flask-sessionstore in every app (tests/flask_suite/plugin.py).  Downloads the
# installed Flask's sdist and builds a side venv with the pytest of its lock
# file, once; fails if either cannot be had, or if nothing is selected.
flask-suite: install
	$(BIN)/python -m tests.flask_suite

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict flask_sessionstore

docs: install
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: install node redis
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venv-flask-suite $(NODE_DIR)/node_modules docs/_build .pytest_cache .mypy_cache .ruff_cache
