# Two commands for a new machine: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint lock clean

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
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/lint-imports
	$(BIN)/mypy src
	$(BIN)/mypy --strict $(STRICT)
	deploy/lint.sh $(BIN)

# The container's pinned dependencies, with hashes (deploy/Dockerfile installs them with --require-hashes).
# `make lock` after a change to the dependencies in pyproject.toml keeps every other pin;
# `make lock UPGRADE=--upgrade` takes the newest releases the specifiers allow. Python 3.11, the image's;
# --universal: every platform's wheels are hashed.
UPGRADE ?=
UV_LOCK = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(UPGRADE)
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(UV_LOCK) pyproject.toml --extra postgres -o deploy/requirements.lock
	$(UV_LOCK) deploy/requirements-build.in -o deploy/requirements-build.lock

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
