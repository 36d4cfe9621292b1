# Quick start: `make run` (the app on a demo database), `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench crash-test demo-data clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH (or PYTHON=python3 make ...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Bytecode for cm-tui's own modules, as an installed package has it (the interpreter
# does not write it where PYTHONDONTWRITEBYTECODE is set; up-to-date files are skipped).
run: $(STAMP)
	@$(BIN)/python -m compileall -q cm_tui
	$(BIN)/cm-tui --demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy cm_tui/store cm_tui/services cm_tui/screening cm_tui/dates.py cm_tui/config.py
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)
	@# With a PostgreSQL server to test on, every test that is not about SQLite itself runs
	@# again with PostgreSQL as "the database" (tests/engine.py explains the two passes).
	@if [ -n "$$CM_TUI_TEST_DATABASE_URL" ]; then \
	  echo "== the same tests again, on PostgreSQL =="; \
	  CM_TUI_TEST_ENGINE=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); \
	else \
	  echo "CM_TUI_TEST_DATABASE_URL is not set: tests ran on SQLite only (.ci/run sets it)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# kill -9 harness, full length (make test runs 25 rounds): CRASH_ROUNDS=500 make crash-test
CRASH_ROUNDS ?= 200
crash-test: $(STAMP)
	CM_TUI_CRASH_ROUNDS=$(CRASH_ROUNDS) $(BIN)/python -m pytest -q -s -p no:cacheprovider -m crash $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
