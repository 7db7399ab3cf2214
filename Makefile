# The two commands: `make run` starts the app, `make test` runs every check.
# Both create .venv and install what they need; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench fuzz clean venv system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# dcmtk and chromium (tests/), installed with apt-get when missing.
system-deps:
	./tools/system-deps.sh

run: $(STAMP)
	./tools/system-deps.sh --optional
	$(BIN)/streamlit run app.py -- --samples

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) system-deps lint typecheck
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/convert.py --repeats 5
	$(BIN)/python bench/compress.py --repeats 3
	$(BIN)/python bench/batch.py --repeats 5
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/inspect_speed.py
	$(BIN)/python bench/app_rerun.py
	$(BIN)/python bench/crafted.py
	$(BIN)/python bench/cli_speed.py --repeats 3
	$(BIN)/python bench/app_memory.py
	$(BIN)/python bench/browse_table.py

# Long fuzz run (tests/fuzz): make fuzz N=10000 [SEED=1]; prints the summary.
N ?= 10000
SEED ?= 1
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.runner --cases $(N) --seed $(SEED)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
