# The kit's two commands (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: worker-sdk git-filter lab test typecheck lint format sandbox-start sandbox-stop sandbox-reset coverage-table screenshots reliability-long bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt pyproject.toml
	@echo "Installing the kit into $(VENV) (first run only)…"
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt \
		> $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@$(MAKE) -s git-filter
	touch $@

## git-filter: strip notebook outputs on `git add` (nbstripout), so running notebooks keeps git clean
# Relative command: git runs filters from the top of the work tree, so every clone or worktree
# uses its own .venv. Outside a git checkout (a downloaded zip) there is nothing to configure.
git-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git config filter.nbstripout.clean '$(BIN)/python -m nbstripout --keep-id --extra-keys metadata.language_info' && \
		git config filter.nbstripout.smudge cat && \
		git config diff.ipynb.textconv '$(BIN)/python -m nbstripout --keep-id --extra-keys metadata.language_info -t'; \
	fi

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

## worker-sdk: the TaskRouter JS SDK (pinned in worker_page_js/) bundled for the worker page
WORKER_SDK := worker_page_js/dist/twilio-taskrouter-2.1.1.js
$(WORKER_SDK): worker_page_js/package.json worker_page_js/package-lock.json worker_page_js/entry.js
	cd worker_page_js && npm ci --no-audit --no-fund --loglevel=error && npm run -s build

worker-sdk: $(WORKER_SDK)

## lab: set up, start the sandbox and open JupyterLab on notebook 00 (LAB_PORT=8899 picks its port)
lab: $(VENV)/.runtime git-filter
	@$(MAKE) -s worker-sdk || echo "note: notebook 06's worker page needs Node.js and npm (make worker-sdk); the other notebooks do not"
	@$(BIN)/python -m helpers.lab $(if $(LAB_PORT),--port $(LAB_PORT))

## test: set up and run every test (lint, format check, type check, unit, sandbox, notebooks, browser)
test: $(VENV)/.dev $(WORKER_SDK)
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

## screenshots: walk the person's path in JupyterLab and refresh docs/img/notebook-0{1,2,4}.png
screenshots: $(VENV)/.dev
	$(BIN)/python -m pytest -q -m browser tests/browser/test_path.py -k persons_path
	for n in 01 02 04; do cp test-output/browser/notebook-$$n.png docs/img/notebook-$$n.png; done

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
