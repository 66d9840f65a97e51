# One task runner. Needs only python3 (3.11+) and make; everything else goes into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint record demo-archive bench mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## build warehouse/sanctuarywatch.duckdb from the bundled archive and show it
	$(BIN)/sanctuarywatch demo

test: $(STAMP)  ## the whole test suite, offline
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check sanctuarywatch tests scripts
	$(BIN)/mypy

record: $(STAMP)  ## re-record cassettes against the loopback server (no internet needed)
	$(BIN)/python scripts/record_cassettes.py

demo-archive: $(STAMP)  ## re-record the bundled demo archive against the loopback server
	$(BIN)/python scripts/build_demo_archive.py

bench: $(STAMP)  ## benchmarks (1M/8M generated rows on loopback); writes nothing to git
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

mutate: $(STAMP)  ## mutation testing by hand, never in CI (MUTATION.md); a subset: make mutate MUTANTS='sanctuarywatch.load.coverage*'
	$(BIN)/pip install --quiet 'mutmut==3.8.1'
	$(BIN)/mutmut run $(MUTANTS)
	$(BIN)/python scripts/mutate.py mutants $(MUTANTS)

clean:
	rm -rf $(VENV) warehouse/*.duckdb warehouse/raw
