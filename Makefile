# model-service: `make run` starts the service with the example models; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
EXAMPLES := $(patsubst %/pyproject.toml,%,$(wildcard examples/*/pyproject.toml))
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install test-install system-deps run test lint typecheck bench bench-quick openapi image clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml $(addsuffix /pyproject.toml,$(EXAMPLES))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e . $(addprefix -e ,$(EXAMPLES))
	touch $@

test-install: $(VENV)/.test-installed system-deps

$(VENV)/.test-installed: $(VENV)/.installed test_requirements.txt
	$(PIP) install -r test_requirements.txt
	touch $@

# Real parts the tests drive: Chromium (browser tests), nginx (replica fail-over), wrk (load),
# PostgreSQL (the monitoring store; the tests start their own server from its binaries).
SYSTEM_PACKAGES := chromium nginx-light wrk postgresql
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v nginx >/dev/null || missing="$$missing nginx-light"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(BIN)/model-service serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

test: test-install lint typecheck
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python scripts/bench/run.py

bench-quick: install
	$(BIN)/python scripts/bench/run.py --quick

openapi: install
	$(BIN)/python scripts/generate_openapi.py --output openapi.yaml

image:
	docker build -f deploy/Dockerfile -t model-service:latest .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
