# The two set-up commands of the README: `make demo` and `make test`.
# Everything they need is installed here, into .venv, tests/interop/node and
# (for the browser tests) Debian's chromium package and (for the RedisStore
# tests) Debian's redis-server package.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
NODE_DIR := tests/interop/node

.PHONY: demo test install node browser redis lint typecheck docs bench clean

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
	$(MAKE) lint typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict flask_sessionstore

docs: install
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: install node
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules docs/_build .pytest_cache .mypy_cache .ruff_cache
