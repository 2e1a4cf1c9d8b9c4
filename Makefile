# Two entry points (see README): `make run` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lewie-installed

.PHONY: run test ipopt setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/lewie run scenarios/example_village.toml --out results/example_village.nc

# IPOPT cross-check backend: best effort on a developer machine, required when CI=true
ipopt: $(STAMP)
	bash tools/setup_ipopt.sh $(BIN)/python

test: $(STAMP) ipopt
	bash tools/setup_chromium.sh
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) results .pytest_cache
