# The two commands of the README: `make run` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run index test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

# Builds the index when it is missing or stale (a no-op otherwise), then opens the interface.
index: setup
	$(BIN)/policy-assistant index --if-needed

run: index
	$(BIN)/policy-assistant chat

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check assistant index prompts eval ui tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/indexing.py

clean:
	rm -rf $(VENV) data
