# One task runner. Every target builds the virtualenv itself, so a fresh clone
# needs nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo portal test lint typecheck bench schemas docs docs-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/regflow demo

# The reference portal (examples/portal): seeds portal.sqlite3 on first run,
# then serves http://127.0.0.1:8000 (PostgreSQL: PORTAL_DATABASE=postgresql://...).
PORTAL_DATABASE ?= portal.sqlite3
portal: $(STAMP)
	PYTHONPATH=examples $(BIN)/python -m portal --database '$(PORTAL_DATABASE)'

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules src
	$(BIN)/ruff check src tests examples benchmarks tools
	$(BIN)/ruff format --check src tests examples benchmarks tools
	$(BIN)/mypy --strict src
	$(MKDOCS) build --strict

# Not --quiet: it hides the warnings, and --strict then fails on none of them.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

docs: $(STAMP)
	$(MKDOCS) build --strict

docs-serve: $(STAMP)
	$(MKDOCS) serve --strict -a 127.0.0.1:8001

bench: $(STAMP)
	$(BIN)/python benchmarks/lifecycle.py
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/rcl.py
	$(BIN)/python benchmarks/rcl_hostile.py
	$(BIN)/python benchmarks/report.py

schemas: $(STAMP)
	$(BIN)/python -c "from regflow._schemas import write_shipped; write_shipped()"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
