# model-service: `make run` starts the service with the example models; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
EXAMPLES := $(patsubst %/pyproject.toml,%,$(wildcard examples/*/pyproject.toml))
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install test-install system-deps image-deps run test lint typecheck bench bench-quick openapi grpc-stubs image \
	image-test clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml $(addsuffix /pyproject.toml,$(EXAMPLES))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e . $(addprefix -e ,$(EXAMPLES))
	touch $@

test-install: $(VENV)/.test-installed system-deps

$(VENV)/.test-installed: $(VENV)/.installed test_requirements.txt mlflow_requirements.txt
	$(PIP) install -r test_requirements.txt
	$(PIP) install -r mlflow_requirements.txt
	touch $@

# $(call install-missing,COMMAND:PACKAGE ...): install (as root) each Debian PACKAGE whose COMMAND
# is not found.
define install-missing
	@missing=""; \
	for pair in $(1); do command -v "$${pair%%:*}" >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

# Real parts the tests drive: Chromium (browser tests), nginx (replica fail-over), wrk (load),
# PostgreSQL (the monitoring store; the tests start their own server from its binaries, which
# Debian keeps off the PATH: initdb is looked for under /usr/lib/postgresql).
system-deps:
	$(call install-missing,chromium:chromium nginx:nginx-light wrk:wrk)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "Installing system packages: postgresql"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

run: install
	$(BIN)/model-service serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

# The container image's tests (tests/image, marker `image`) run after the rest, in their own target.
test: test-install lint typecheck
	$(BIN)/python -m pytest -m "not image"
	$(MAKE) image-test

# wrk and tritonclient (the gRPC row's client) come with the test set-up
bench: test-install
	$(BIN)/python scripts/bench/run.py
	$(BIN)/python scripts/bench/validation_cost.py
	$(BIN)/python scripts/bench/grpc_bench.py
	$(BIN)/python scripts/bench/shadow.py

bench-quick: install
	$(BIN)/python scripts/bench/run.py --quick

openapi: install
	$(BIN)/python scripts/generate_openapi.py --output openapi.yaml

# The V2 gRPC API's Python stubs, from model_service/grpc_v2/grpc_predict_v2.proto (grpcio-tools).
grpc-stubs: $(VENV)/.test-installed
	$(BIN)/python scripts/generate_grpc_stubs.py

# e.g. make image IMAGE_BUILD_ARGS="--build-arg BASE_IMAGE=registry.example/python:3.11-slim"
IMAGE ?= model-service:latest
IMAGE_BUILD_ARGS ?=
image:
	docker build -f deploy/Dockerfile -t $(IMAGE) $(IMAGE_BUILD_ARGS) .

# The Docker engine and debootstrap (the stand-in base image, Docker Hub being out of reach).
image-deps:
	$(call install-missing,dockerd:docker.io debootstrap:debootstrap)

# Builds the image and runs it (needs root: starts dockerd when none runs, and stops it after).
image-test: test-install image-deps
	$(BIN)/python -m pytest -m image tests/image

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
