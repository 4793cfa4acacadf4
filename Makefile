# Hunter — `make run` installs and starts Hunter (embedded mode); `make test` runs the test suite.
PYTHON ?= python3
BACKEND := backend
VENV := $(BACKEND)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lint-deploy format bench migrate clean system-deps install

system-deps:
	@./scripts/system-deps.sh

$(BIN)/python:
	@./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python $(BACKEND)/requirements-dev.txt $(BACKEND)/pyproject.toml
	$(BIN)/python -m pip install --quiet -r $(BACKEND)/requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e $(BACKEND)
	@touch $(STAMP)

install: $(STAMP)

run: system-deps $(STAMP)
	cd $(BACKEND) && .venv/bin/hunter serve

migrate: $(STAMP)
	cd $(BACKEND) && .venv/bin/hunter migrate

test: system-deps $(STAMP)
	cd $(BACKEND) && .venv/bin/pytest

lint: $(STAMP) lint-deploy
	cd $(BACKEND) && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy app tests

# The container image and the compose stack, checked offline (no Docker engine needed).
lint-deploy: $(STAMP)
	$(BIN)/hadolint $(BACKEND)/Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

format: $(STAMP)
	cd $(BACKEND) && .venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench: $(STAMP)
	cd $(BACKEND) && .venv/bin/python -m benchmarks

clean:
	rm -rf $(VENV)
