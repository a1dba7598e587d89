# Two commands for a new machine: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/teamsretention demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_bench.py

STRICT := src/teamsretention/domain.py src/teamsretention/ports.py src/teamsretention/errors.py \
	src/teamsretention/endpoints.py src/teamsretention/lists.py src/teamsretention/policy src/teamsretention/cycle src/teamsretention/store

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy src
	$(BIN)/mypy --strict $(STRICT)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
