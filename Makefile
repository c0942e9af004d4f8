# Every target creates or refreshes the local virtual environment (.venv) first, so a fresh
# clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Which interpreter built a virtual environment: its installation and version, "/usr 3.11".
PY_ID := import sys; print(sys.base_prefix, "%d.%d" % sys.version_info[:2])
VENV_PY := $(shell test -x $(BIN)/python && $(BIN)/python -c '$(PY_ID)' 2>/dev/null)
# .venv is built anew when it does not run, and when PYTHON, given on the command line or in
# the environment, names another interpreter than the one that built it; the recipe says why.
ifeq ($(VENV_PY),)
ifneq ($(wildcard $(VENV)),)
$(STAMP): FORCE
endif
else ifneq ($(origin PYTHON),file)
WANT_PY := $(shell $(PYTHON) -c '$(PY_ID)' 2>/dev/null)
ifneq ($(VENV_PY),$(WANT_PY))
$(STAMP): FORCE
endif
endif

# The wheel holds the kit (migrate) alone. A development environment installs it editable
# with the apps' and the harness' dependencies (the "bookstore" extra) and the test tools, and
# puts this clone on its import path (a .pth file), so legacy_flask, quart_app and compare
# import from any working directory, as `python -m legacy_flask` in a test's subprocess needs.
# $(1): the environment's python.
define install_dev
	$(1) -m pip install --quiet --upgrade pip
	$(1) -m pip install --quiet --upgrade -e '.[bookstore,dev]'
	$(1) -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "flask_quart_migration_kit_clone.pth").write_text(sys.argv[1] + "\n")' '$(CURDIR)'
endef

# Ports of `make demo`: make demo FLASK_PORT=9000 QUART_PORT=9001 INVENTORY_PORT=9081
FLASK_PORT ?= 8000
QUART_PORT ?= 8001
INVENTORY_PORT ?= 8081

.PHONY: demo test test-quart-next lint venv clean FORCE

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	@if [ -n "$(WANT_PY)" ] && [ "$(VENV_PY)" != "$(WANT_PY)" ]; then \
	  echo "make: $(VENV) was built by Python $(lastword $(VENV_PY)) from $(firstword $(VENV_PY)); PYTHON=$(PYTHON) is Python $(lastword $(WANT_PY)) from $(firstword $(WANT_PY)): building $(VENV) anew"; \
	  rm -rf $(VENV); \
	elif [ -e $(VENV) ] && [ -z "$(VENV_PY)" ]; then \
	  echo "make: $(BIN)/python does not run: building $(VENV) anew"; \
	  rm -rf $(VENV); \
	fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call install_dev,$(BIN)/python)
	@touch $(STAMP)

## demo: serve the bookstore with sample data and the inventory stand-in; Ctrl-C stops it all.
## Other ports: make demo FLASK_PORT=9000 QUART_PORT=9001 INVENTORY_PORT=9081
demo: $(STAMP)
	$(BIN)/python -m compare demo --flask-port $(FLASK_PORT) --quart-port $(QUART_PORT) --inventory-port $(INVENTORY_PORT)

## test: run the whole test suite; the 25 slowest tests are listed at the end
test: $(STAMP)
	$(BIN)/python -m pytest --durations=25

## test-quart-next: quart_app's in-process contract suite on Python 3.13 with the newest Quart
## (0.23 merged the request context into the app context), in its own virtual environment.
## Usage: make test-quart-next PYTHON313=/path/to/python3.13
VENV313 := .venv-py313
test-quart-next:
	@test -n "$(PYTHON313)" || { echo "set PYTHON313 to a Python 3.13 interpreter"; exit 2; }
	@test -x $(VENV313)/bin/python || $(PYTHON313) -m venv $(VENV313)
	$(call install_dev,$(VENV313)/bin/python)
	$(VENV313)/bin/python -c 'import importlib.metadata as m; print("Quart", m.version("quart"))'
	$(VENV313)/bin/python -m pytest tests/contract tests/quart -k quart --durations=10

## lint: ruff and mypy, as configured in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(VENV313) .pytest_cache .mypy_cache .ruff_cache
