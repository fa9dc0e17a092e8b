# The two commands of the README: `make run` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser postgres run index vectors test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

# The web UI's end-to-end test drives Debian's Chromium (Playwright's own browser download fails here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The database tests start a real PostgreSQL server from Debian's binaries.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

# Builds the index when it is missing or stale (a no-op otherwise), then opens the interface.
index: setup
	$(BIN)/policy-assistant index --if-needed

# Rewrites corpus/vectors.npz, the bundled corpus' prebuilt vectors, after a change to the corpus, parser,
# chunker or model (tests/index/test_prebuilt.py says when); embeds everything, a few minutes on 2 cores.
vectors: setup
	env -u ASSISTANT_EMBED_BACKEND -u ASSISTANT_CHUNK_TOKENS -u ASSISTANT_CHUNK_OVERLAP -u ASSISTANT_CORPUS_DIR \
		$(BIN)/policy-assistant index --write-prebuilt

run: index
	$(BIN)/policy-assistant web

test: setup browser postgres
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check errors.py assistant index prompts eval ui storage tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/indexing.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/answer.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/start.py

clean:
	rm -rf $(VENV) data
