# One task runner. Every target builds the virtualenv itself, so a fresh clone
# needs nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/regflow demo

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules src
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks
	$(BIN)/mypy --strict src

bench: $(STAMP)
	$(BIN)/python benchmarks/lifecycle.py
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/rcl.py
	$(BIN)/python benchmarks/report.py

schemas: $(STAMP)
	$(BIN)/python -c "from regflow._schemas import write_shipped; write_shipped()"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
