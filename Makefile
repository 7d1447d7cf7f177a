# The kit's two commands (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: lab test typecheck lint format sandbox-start sandbox-stop sandbox-reset coverage-table screenshot reliability-long bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

## lab: set up, start the sandbox and open JupyterLab on notebooks/ (sandbox mode)
lab: $(VENV)/.runtime
	$(BIN)/python -m helpers.lab

## test: set up and run every test (lint, format check, type check, unit, sandbox, notebooks, browser)
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) typecheck
	$(BIN)/python -m pytest

## typecheck: mypy --strict on the packages listed in pyproject.toml ([tool.mypy] files)
typecheck: $(VENV)/.dev
	$(BIN)/mypy

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

sandbox-start: $(VENV)/.runtime
	$(BIN)/python -m taskrouter_sandbox start

sandbox-stop: $(VENV)/.runtime
	$(BIN)/python -m taskrouter_sandbox stop

sandbox-reset: $(VENV)/.runtime
	$(BIN)/python -m taskrouter_sandbox reset

## coverage-table: regenerate docs/sandbox-coverage.md from the spec and the route table
coverage-table: $(VENV)/.dev
	$(BIN)/python tools/coverage_table.py

## screenshot: refresh the README's picture of notebook 02 from the last browser test run
screenshot: $(VENV)/.dev
	$(BIN)/python -m pytest -q -m browser tests/browser -k clicks_idle
	cp test-output/browser/notebook-02.png docs/img/notebook-02.png

## reliability-long: the long runs of the reliability suites (invariants, crashes, fuzzing, load)
reliability-long: $(VENV)/.dev
	KIT_LONG=1 $(BIN)/python -m pytest tests/reliability -q -s

## bench: run every benchmark and rewrite docs/benchmarks.md (not part of `make test`)
bench: $(VENV)/.dev
	$(BIN)/python -m bench

bench-quick: $(VENV)/.dev
	$(BIN)/python -m bench --quick --out test-output/bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
