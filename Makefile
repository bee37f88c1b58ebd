# symphony-mesh. Every target creates or refreshes .venv itself; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test test-slow lint typecheck proto proto-check bench demo clean

venv: $(STAMP)

# Reinstall when the dependency list changes. pip >= 25.1 is needed for --group (PEP 735).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/buf lint

typecheck: $(STAMP)
	$(BIN)/mypy

proto: $(STAMP)
	$(BIN)/python -m tools.gen_protos

proto-check: $(STAMP)
	$(BIN)/python -m tools.gen_protos --check

test: lint typecheck proto-check
	$(BIN)/python -m pytest -n 2 tests

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow tests

demo: $(STAMP)
	$(BIN)/symphony-mesh demo

bench: $(STAMP)
	$(BIN)/python -m tools.bench.run_all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
