# Every target creates or refreshes the local virtual environment (.venv) first, so a fresh
# clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-quart-next lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: serve the bookstore with sample data and the inventory stand-in; Ctrl-C stops it all
demo: $(STAMP)
	$(BIN)/python -m compare demo

## test: run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## test-quart-next: quart_app's in-process contract suite on Python 3.13 with the newest Quart
## (0.23 merged the request context into the app context), in its own virtual environment.
## Usage: make test-quart-next PYTHON313=/path/to/python3.13
VENV313 := .venv-py313
test-quart-next:
	@test -n "$(PYTHON313)" || { echo "set PYTHON313 to a Python 3.13 interpreter"; exit 2; }
	@test -x $(VENV313)/bin/python || $(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install --quiet --upgrade pip
	$(VENV313)/bin/python -m pip install --quiet --upgrade -e '.[dev]'
	$(VENV313)/bin/python -c 'import importlib.metadata as m; print("Quart", m.version("quart"))'
	$(VENV313)/bin/python -m pytest tests/contract tests/quart -k quart

## lint: ruff and mypy, as configured in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(VENV313) .pytest_cache .mypy_cache .ruff_cache
